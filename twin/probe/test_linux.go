package probe

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/webtier/webtier/twin/compiler"
	"github.com/webtier/webtier/verify"
)

// Test runs `twin test` on the running twin of p (n and in its network and intent): every
// attempt as real traffic from inside the sender's namespace, limit at a time (DefaultLimit),
// each waiting at most Timeout, every host echoing UDP on the ports tried. A blocked attempt
// is an outcome, not an error: the error says what kept an attempt from being made.
func Test(ctx context.Context, p *compiler.Plan, n *verify.Network, in verify.Intent, limit int) (*Report, error) {
	start := time.Now()
	outcomes := attempts(p, n, in)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	threads := map[string]*Thread{}
	pingers := map[string]*pinger{}
	defer func() {
		for _, t := range threads {
			t.Stop()
		}
	}()
	udpPorts := map[*compiler.Host]map[int]bool{}
	for _, o := range outcomes {
		if o.Proto == verify.UDP {
			if udpPorts[o.To] == nil {
				udpPorts[o.To] = map[int]bool{}
			}
			udpPorts[o.To][o.DPort] = true
		}
	}
	for _, h := range p.Hosts {
		if !tested(p, h) {
			continue
		}
		t, err := Enter(h.Namespace)
		if err != nil {
			return nil, err
		}
		threads[h.Name] = t
		for port := range udpPorts[h] {
			if err := t.echoUDP(ctx, port); err != nil {
				return nil, fmt.Errorf("%s: udp echo on %d: %w", h.Name, port, err)
			}
		}
		if pingers[h.Name], err = t.pinger(ctx); err != nil {
			return nil, fmt.Errorf("%s: icmp: %w", h.Name, err)
		}
	}
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i, o := range outcomes {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t := threads[o.From.Name]
			var res Result
			var err error
			switch o.Proto {
			case verify.TCP:
				res, err = t.TCP(ctx, o.SPort, o.Addr, o.DPort, Timeout)
			case verify.UDP:
				res, err = t.udp(ctx, o.SPort, o.Addr, o.DPort, Timeout)
			default:
				res, err = pingers[o.From.Name].echo(ctx, o.Addr, uint32(i), Timeout)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", o.Attempt, err)
			}
			o.Got = res
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return &Report{Outcomes: outcomes, Elapsed: time.Since(start)}, nil
}
