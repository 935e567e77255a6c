package live

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// SettleInterval is how often Settle looks again.
var SettleInterval = 15 * time.Second

// Settle waits, up to timeout, until every target group of the stack has targets and none
// of them is still in the initial state: on AWS the web servers boot and pass their first
// health checks minutes after an apply, and the shape checks should judge them settled. It
// says on log what it waits for. Running out of time is not an error: the shape checks then
// report what they see.
func Settle(ctx context.Context, t Target, timeout time.Duration, log io.Writer) error {
	cfg, err := Connect(ctx, t)
	if err != nil {
		return err
	}
	c := newClients(cfg)
	deadline := time.Now().Add(timeout)
	for {
		waiting, err := c.unsettled(ctx)
		if err != nil || waiting == "" {
			return err
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(log, "webtier: still %s after %s; checking anyway\n", waiting, timeout)
			return nil
		}
		fmt.Fprintf(log, "webtier: waiting for the load balancer's health checks: %s\n", waiting)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(SettleInterval):
		}
	}
}

// unsettled says what is not settled yet, or "".
func (c *clients) unsettled(ctx context.Context) (string, error) {
	vpcs, err := c.projectVPCs(ctx)
	if err != nil || len(vpcs) != 1 {
		return "", err // Describe says what is wrong
	}
	vpc := aws.ToString(vpcs[0].VpcId)
	p := elbv2.NewDescribeTargetGroupsPaginator(c.elb, &elbv2.DescribeTargetGroupsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return "", call("DescribeTargetGroups", err)
		}
		for _, tg := range page.TargetGroups {
			if aws.ToString(tg.VpcId) != vpc {
				continue
			}
			h, err := c.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn})
			if err != nil {
				return "", call("DescribeTargetHealth", err)
			}
			name := aws.ToString(tg.TargetGroupName)
			if len(h.TargetHealthDescriptions) == 0 {
				return name + " has no targets yet", nil
			}
			initial := 0
			for _, d := range h.TargetHealthDescriptions {
				if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumInitial {
					initial++
				}
			}
			if initial > 0 {
				return fmt.Sprintf("%d of %d targets of %s in the initial state", initial, len(h.TargetHealthDescriptions), name), nil
			}
		}
	}
	return "", nil
}
