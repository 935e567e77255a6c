// Package supervise starts the twin's background processes (each host's stand-ins, sshd, the
// Auto Scaling controller, a forwarder) and finds them again by their pid files: each runs in
// a process group of its own, its output to a log, so that a later command (or `twin down`)
// can signal it. Linux only, like the rest of the twin's runtime (Running builds everywhere,
// and finds nothing running where there is no /proc).
package supervise
