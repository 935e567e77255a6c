package verify

import (
	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/rules"
)

// dbMonitoring: RDS's enhanced monitoring assumes the instance's monitoring role for this
// account's instance, and is refused it for another account's (the confused deputy).
func (a *authz) dbMonitoring() {
	for _, db := range a.v.n.DBInstances {
		const service = "monitoring.rds.amazonaws.com"
		mine := Authorization{Req: 5, Check: "RDS enhanced monitoring assumes the monitoring role for this account's database",
			Caller: service, Action: "sts:AssumeRole", Expected: "allowed"}
		theirs := Authorization{Req: 5, Check: "RDS enhanced monitoring is refused the role for another account's database (confused deputy)",
			Caller: service, Action: "sts:AssumeRole", Expected: "denied"}
		if !db.HasMonitoringRole {
			if a.v.n.Deployed {
				a.missing(mine, db.Addr+": the monitoring role")
				a.missing(theirs, db.Addr+": the monitoring role")
			}
			continue // no enhanced monitoring in a synthesized stack: the RDS.6 shape check says so
		}
		role := db.MonitoringRole
		if role == nil {
			a.missing(mine, db.Addr+": monitoring_role_arn names no aws_iam_role of the stack")
			a.missing(theirs, db.Addr+": monitoring_role_arn names no aws_iam_role of the stack")
			continue
		}
		mine.Resource, theirs.Resource = role.Addr, role.Addr
		trust, err := a.parse(role.Addr, role.Trust)
		if err != nil {
			a.missing(mine, err.Error())
			a.missing(theirs, err.Error())
			continue
		}
		id := db.Identifier
		for _, c := range []struct {
			check   Authorization
			account string
		}{{mine, a.account}, {theirs, otherAccount}} {
			source := "arn:" + rules.Partition(a.v.in.Region) + ":rds:" + a.v.in.Region + ":" + c.account + ":db:" + id
			a.decide(c.check, policy.Request{Principal: service, Action: "sts:AssumeRole", Resource: a.roleARN(role),
				Context: policy.Context{"aws:SourceAccount": {c.account}, "aws:SourceArn": {source}}}, policy.Policies{Trust: trust}, nil)
		}
	}
}
