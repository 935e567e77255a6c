// Package standin is the twin's stand-in services: what runs inside a host's namespace, in the
// `webtier` process the twin starts there with `--spec FILE`. Each is a small real server that
// does what the AWS part does for the seed's tests and says in every answer what it stands in
// for: the instance metadata service, the web server's pages, an ALB node, the package
// repository, the VPC resolver, the database (MariaDB) and its failover, the Secrets Manager
// endpoint, an EFS mount target and the web servers' NFS client, the STS-like credentials and
// their authorization, Session Manager and the SSM Agent, and the SNS topics' record.
//
// A host's Spec says what it runs; package twin computes the specs from its plan and starts
// the processes. This package never imports package twin: whatever a stand-in needs comes in
// its Spec or as a parameter, and the files it shares with the twin (the specs, the
// resolver's names, the ALB nodes' counts, the notifications, the STS key) are written and
// read through the functions here.
package standin
