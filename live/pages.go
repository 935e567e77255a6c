package live

import "context"

// paginator is what the SDK's paginators (ec2, elbv2, autoscaling, rds, efs) have in common:
// T is the output of one page, O the service's client options.
type paginator[T, O any] interface {
	HasMorePages() bool
	NextPage(context.Context, ...func(*O)) (T, error)
}

// eachPage calls each with every page of p, in order, until a page or each fails. A failed
// page is call(op, err); an error from each is returned as it is.
func eachPage[T, O any](ctx context.Context, op string, p paginator[T, O], each func(T) error) error {
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return call(op, err)
		}
		if err := each(page); err != nil {
			return err
		}
	}
	return nil
}
