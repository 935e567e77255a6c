package drill

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/webtier/webtier/check"
)

// SharedFiles is an Env whose web servers mount the shared file system.
type SharedFiles interface {
	// WriteShared writes name through h's mount of the shared file system and reads it back:
	// observed says where it went, evidence how; undo (nil when the env keeps the file)
	// removes it.
	WriteShared(ctx context.Context, h Host, name string) (observed, evidence string, undo func(), err error)
}

// Shared is requirement 6: a file written through one web server's mount of the shared file
// system is listed on the page of each web server in another AZ, read through the load
// balancer within the health checks' settling time.
func Shared(ctx context.Context, env Env, fs SharedFiles) []check.Result {
	r := &rows{}
	webs := env.Webs()
	name := fmt.Sprintf("webtier-drill-%d.txt", time.Now().UnixNano())
	if len(webs) == 0 {
		r.add(6, "write "+name+" through a web server's mount", "written and read back", "-", "no web server in service", false)
		return r.out
	}
	writer := webs[0]
	var readers []Host
	for _, w := range webs {
		if w.AZ != writer.AZ {
			readers = append(readers, w)
		}
	}
	writeTest := "write " + name + " through " + writer.Name + "'s mount (" + writer.AZ + ")"
	observed, evidence, undo, err := fs.WriteShared(ctx, writer, name)
	if ns := notShown(err); ns != nil {
		r.limit(6, writeTest, "written and read back, listed by a web server in another AZ", ns.Why)
		return r.out
	}
	if err != nil {
		observed = err.Error()
	}
	r.add(6, writeTest, "written and read back", observed, evidence, err == nil)
	if err != nil {
		return r.out
	}
	if undo != nil {
		defer undo()
	}
	if len(readers) == 0 {
		const test = "the file is listed by a web server in another AZ"
		if s, ok := env.(Spreader); ok && s.OneAZ() != nil {
			r.limit(6, test, "another AZ", s.OneAZ().Why+"; read by the others of "+writer.AZ)
			readers = webs[1:]
		} else {
			r.add(6, test, "another AZ", writer.AZ, "every web server in service is in "+writer.AZ, false)
			return r.out
		}
	}
	// A reader just started may not be in service yet: ask for the health checks' settling
	// time.
	window := env.Health().Settle()
	for _, reader := range readers {
		seen, listed, why := 0, false, "no page from "+reader.ID+" in "+window.String()
		for i, end := 0, time.Now().Add(window); time.Now().Before(end) && !listed && ctx.Err() == nil; i++ {
			p, err := page(ctx, env, i)
			if err != nil || p.Instance != reader.ID {
				sleep(ctx, 100)
				continue
			}
			seen++
			listed = slices.Contains(p.Shared, name)
			why = p.Note
		}
		observed := "not listed"
		if listed {
			observed = "listed"
		}
		r.add(6, name+" on "+reader.Name+"'s page ("+reader.AZ+"), through the load balancer", "listed", observed,
			fmt.Sprintf("%d pages of %s read; %s", seen, reader.ID, why), listed)
	}
	return r.out
}
