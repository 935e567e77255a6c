package emulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// errorTrace starts the line the launcher writes to moto.log for every request it answered
// with HTTP 500, followed by the Failure as JSON.
const errorTrace = "webtier-trace 500 "

// Failure is a request the emulator answered with HTTP 500: moto failing, never an answer
// AWS gives, so whatever asked can stop at once instead of retrying.
type Failure struct {
	// Action is the service and the API action: "ec2 ReplaceNetworkAclAssociation".
	Action string `json:"action"`
	// Attempt is the SDK's attempt number of the call (0 when the client did not say).
	Attempt    int    `json:"attempt"`
	Invocation string `json:"invocation"`
	// Exception is the Python exception moto raised; Traceback its last lines.
	Exception string   `json:"exception"`
	Traceback []string `json:"traceback"`
}

func (f Failure) Error() string {
	return fmt.Sprintf("the emulator answered HTTP 500 to %s (attempt %d of invocation %s): %s\n    %s",
		f.Action, f.Attempt, f.Invocation, f.Exception, strings.Join(f.Traceback, "\n    "))
}

// LogFile is moto.log, where the launcher writes the server's log and its trace lines.
func (e *Emulator) LogFile() string { return filepath.Join(e.Dir, logFile) }

// LogSize is how far moto.log has been written: FailuresSince(LogSize()) reads only what
// comes after.
func (e *Emulator) LogSize() int64 {
	st, err := os.Stat(e.LogFile())
	if err != nil {
		return 0
	}
	return st.Size()
}

// FailuresSince returns the HTTP 500s traced in moto.log from offset on, and the offset of
// the end of what was read (whole lines only).
func (e *Emulator) FailuresSince(offset int64) ([]Failure, int64, error) {
	f, err := os.Open(e.LogFile())
	if err != nil {
		return nil, offset, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset, err
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, offset, err
	}
	end := bytes.LastIndexByte(data, '\n') + 1
	var failures []Failure
	for _, line := range strings.Split(string(data[:end]), "\n") {
		text, ok := strings.CutPrefix(line, errorTrace)
		if !ok {
			continue
		}
		var fail Failure
		if err := json.Unmarshal([]byte(text), &fail); err != nil {
			fail = Failure{Action: "unknown", Exception: "an unreadable trace line: " + text}
		}
		failures = append(failures, fail)
	}
	return failures, offset + int64(end), nil
}

// Trace returns the last n trace lines of moto.log (changes of security-group rules, retried
// requests, HTTP 500s), for a failure report.
func (e *Emulator) Trace(n int) string {
	f, err := os.Open(e.LogFile())
	if err != nil {
		return fmt.Sprintf("(no trace: %v)", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "webtier-trace ") {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
