// Package autoscale is the twin's stand-in for EC2 Auto Scaling and CloudWatch's alarms: the
// controller process that measures the CPU of the web servers' namespaces and resizes the
// group on a target-tracking policy's alarms, the evaluation of the stack's alarms on what
// the twin measures (published through the SNS stand-in), and an instance refresh as AWS
// runs one when a group's launch template changes.
//
// It never imports package twin: what changes the running twin (the kernel's ops, the
// stand-ins started and stopped, the ALB nodes' targets) comes in as a Resizer or an
// Applier that package twin gives it. The controller's and the refresh's decisions and the
// alarms' evaluation build on every OS; starting and stopping the controller process and
// measuring a namespace's CPU are Linux's.
package autoscale
