package drill

import (
	"context"

	"github.com/webtier/webtier/check"
)

// Stack is everything the seed's six tests need of where they run.
type Stack interface {
	Env
	Operator
	Egress
	Scaler
	Database
	SharedFiles
}

// Test runs the seed's test of requirement req (1-6) on s and returns its rows.
func Test(ctx context.Context, s Stack, req int) []check.Result {
	switch req {
	case 1:
		return SSH(ctx, s, s)
	case 2:
		return Balancing(ctx, s)
	case 3:
		return NAT(ctx, s, s, s)
	case 4:
		return Scaling(ctx, s, s)
	case 5:
		return Failover(ctx, s, s)
	case 6:
		return Shared(ctx, s, s)
	}
	return nil
}
