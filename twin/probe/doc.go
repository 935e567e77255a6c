// Package probe sends real traffic through a running twin and compares it with verify.
//
// `twin test`: Test tries every probe of verify (expecting what the flow table expects) and,
// for every pair of hosts requirement 7 judges, TCP, UDP and ICMP echo on a sample of ports,
// each compared with verify's verdict for the very same connection; Report says what the
// packets did, as text or JSON. `twin change`: Traffic keeps the seed's traffic going while a
// change is applied and counts it step by step and flow by flow; Expectations is what verify
// says of those flows in each state, and ChangeReport puts them side by side.
//
// The sockets are made inside the hosts' namespaces by a Thread entered into each (Threads
// keeps one per host), which the drill environment and the forwarder use too.
//
// Choosing the attempts, the expectations and the reports are pure and build on every OS;
// sending traffic needs Linux (the _linux.go files). The package never imports the twin's
// runtime (package twin): it reads a compiled plan (twin/compiler) and the stand-ins' files
// (twin/standin).
package probe
