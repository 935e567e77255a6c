package live_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/live"
)

// statusOf finds the shape check whose title contains title.
func statusOf(t *testing.T, list []check.Result, title string) check.Result {
	t.Helper()
	for _, s := range list {
		if strings.Contains(s.Check, title) {
			return s
		}
	}
	t.Fatalf("no shape check %q among:\n%s", title, render(list))
	return check.Result{}
}

func render(list []check.Result) string {
	var b strings.Builder
	for _, s := range list {
		b.WriteString("  " + s.Check + " | " + string(s.Status) + " | " + s.Observed + "\n")
	}
	return b.String()
}

// noGet fails the test if the site check requests anything.
func noGet(t *testing.T) live.Getter {
	return func(_ context.Context, url string) (int, error) {
		t.Errorf("the site check requested %s", url)
		return 0, errors.New("no requests in this test")
	}
}

// webZones names the web subnets in the order of the recorded group's vpc_zone_identifier,
// which follows the recording's subnet IDs: moto puts every instance of the group in the first.
func webZones(t *testing.T) (first, second string) {
	t.Helper()
	s := loadRecorded(t)
	nameOf := func(id string) string {
		for _, sn := range s.Subnets {
			if aws.ToString(sn.SubnetId) == id {
				for _, tag := range sn.Tags {
					if aws.ToString(tag.Key) == "Name" {
						return aws.ToString(tag.Value)
					}
				}
			}
		}
		t.Fatalf("no subnet %s", id)
		return ""
	}
	zones := strings.Split(aws.ToString(s.AutoScalingGroups[0].VPCZoneIdentifier), ",")
	if len(zones) != 2 {
		t.Fatalf("the recorded group spans %q; want two web subnets", zones)
	}
	return nameOf(zones[0]), nameOf(zones[1])
}

// TestShapesOnTheEmulator: the deployed example on moto passes every check it can observe;
// what moto does not model is a limitation, never a failure, and says what was observed.
func TestShapesOnTheEmulator(t *testing.T) {
	got := loadRecorded(t).Check(context.Background(), true, noGet(t))
	want := map[string]check.Status{
		"web servers in service":                     check.Pass,
		"web servers registered in webtier-web":      check.Pass,
		"web servers healthy in webtier-web":         check.Limitation,
		"no web server has a public IP":              check.Pass,
		"web servers spread over the web subnets":    check.Limitation,
		"Multi-AZ with a standby in another AZ":      check.Limitation,
		"EFS mount targets available":                check.Pass,
		"NAT gateways available":                     check.Pass,
		"the site answers through the load balancer": check.Limitation,
	}
	if len(got) != len(want) {
		t.Errorf("got %d checks, want %d:\n%s", len(got), len(want), render(got))
	}
	for title, status := range want {
		if s := statusOf(t, got, title); s.Status != status {
			t.Errorf("%s: got %s (%s), want %s", s.Check, s.Status, s.Observed, status)
		}
	}
	first, second := webZones(t)
	for title, observed := range map[string]string{
		"spread":   first + " 2, " + second + " 0; moto places every Auto Scaling instance in the first subnet of vpc_zone_identifier (" + first + ")",
		"Multi-AZ": "MultiAZ = true, primary in ap-northeast-2a",
		"healthy":  "2 healthy; moto reports every registered running instance healthy",
	} {
		if s := statusOf(t, got, title); !strings.Contains(s.Observed, observed) {
			t.Errorf("%s: observed %q, want it to say %q", s.Check, s.Observed, observed)
		}
	}
}

// TestEmulatorPatternsFailOnAWS: what is a limitation on the emulator is a failure on AWS.
func TestEmulatorPatternsFailOnAWS(t *testing.T) {
	got := loadRecorded(t).Check(context.Background(), false, func(context.Context, string) (int, error) {
		return http.StatusOK, nil
	})
	for title, status := range map[string]check.Status{
		"spread over the web subnets": check.Fail,
		"Multi-AZ with a standby":     check.Fail,
		"healthy in webtier-web":      check.Pass, // moto's "healthy", taken at its word
		"the site answers through":    check.Pass,
		"NAT gateways available":      check.Pass,
	} {
		if s := statusOf(t, got, title); s.Status != status {
			t.Errorf("%s: got %s (%s), want %s", s.Check, s.Status, s.Observed, status)
		}
	}
	if n := check.Failures(got); n != 2 {
		t.Errorf("got %d failures on AWS, want 2 (spread, standby):\n%s", n, render(got))
	}
}

// TestShapeFailures: each defect of the deployed shape fails its check, on the emulator too.
func TestShapeFailures(t *testing.T) {
	subnetNamed := func(s *live.Described, name string) string {
		for _, sn := range s.Subnets {
			for _, tag := range sn.Tags {
				if aws.ToString(tag.Key) == "Name" && aws.ToString(tag.Value) == name {
					return aws.ToString(sn.SubnetId)
				}
			}
		}
		t.Fatalf("no subnet %s", name)
		return ""
	}
	first, second := webZones(t)
	web := func(s *live.Described) []int {
		var out []int
		for i, in := range s.Instances {
			for _, tag := range in.Tags {
				if aws.ToString(tag.Key) == "aws:autoscaling:groupName" {
					out = append(out, i)
				}
			}
		}
		return out
	}
	cases := []struct {
		name, check, observed string
		mutate                func(s *live.Described)
	}{
		{"a web server with a public IP", "no web server has a public IP", "54.180.0.1",
			func(s *live.Described) { s.Instances[web(s)[0]].PublicIpAddress = aws.String("54.180.0.1") }},
		{"a web server not registered", "registered in webtier-web", "1 of 2 registered; not registered: ",
			func(s *live.Described) { s.TargetGroups[0].Health = s.TargetGroups[0].Health[:1] }},
		{"too few in service", "web servers in service", "1 InService (min 2",
			func(s *live.Described) { s.AutoScalingGroups[0].Instances[0].LifecycleState = "Terminating" }},
		{"the database without Multi-AZ", "Multi-AZ", "MultiAZ = false",
			func(s *live.Described) { s.DBInstances[0].MultiAZ = aws.Bool(false) }},
		{"a mount target still being created", "EFS mount targets available", "creating",
			func(s *live.Described) { s.MountTargets[0].LifeCycleState = "creating" }},
		{"a NAT gateway that failed", "NAT gateways available", "failed",
			func(s *live.Described) { s.NATGateways[0].State = "failed" }},
		{"instances all in the second subnet: not moto's pattern", "spread over the web subnets", first + " 0, " + second + " 2",
			func(s *live.Described) {
				for _, i := range web(s) {
					s.Instances[i].SubnetId = aws.String(subnetNamed(s, second))
				}
			}},
		{"an instance outside vpc_zone_identifier", "spread over the web subnets", "outside vpc_zone_identifier",
			func(s *live.Described) { s.Instances[web(s)[0]].SubnetId = aws.String(subnetNamed(s, "db-a")) }},
		{"no web group", "Auto Scaling group", "no Auto Scaling group over the VPC's subnets is tagged webtier:role=web",
			func(s *live.Described) { s.AutoScalingGroups[0].Tags = nil }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := loadRecorded(t)
			c.mutate(s)
			got := s.Check(context.Background(), true, noGet(t))
			sh := statusOf(t, got, c.check)
			if sh.Status != check.Fail || !strings.Contains(sh.Observed, c.observed) {
				t.Errorf("%s: got %s %q, want FAIL saying %q", sh.Check, sh.Status, sh.Observed, c.observed)
			}
		})
	}
}

// TestSiteCheck requests the health-check path through the listener, on a loopback server.
func TestSiteCheck(t *testing.T) {
	status := http.StatusOK
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.Path
		w.WriteHeader(status)
	}))
	defer srv.Close()
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	s := loadRecorded(t)
	s.LoadBalancers[0].DNSName = aws.String(host)
	s.LoadBalancers[0].Listeners[0].Port = aws.Int32(int32(p))
	for _, code := range []int{http.StatusOK, http.StatusBadGateway} {
		status = code
		got := statusOf(t, s.Check(context.Background(), false, live.HTTPGet), "the site answers")
		want := check.Pass
		if code != http.StatusOK {
			want = check.Fail
		}
		if got.Status != want || !strings.Contains(got.Observed, strconv.Itoa(code)) {
			t.Errorf("site answering %d: got %s %q, want %s", code, got.Status, got.Observed, want)
		}
		if asked != "/healthz.php" {
			t.Errorf("requested %q, want the target group's health-check path /healthz.php", asked)
		}
	}
	// An HTTP listener that only redirects (HTTPS configured) is not the one to ask.
	s.LoadBalancers[0].Listeners[0].DefaultActions = []elbtypes.Action{{Type: elbtypes.ActionTypeEnumRedirect}}
	if got := statusOf(t, s.Check(context.Background(), false, noGet(t)), "the site answers"); got.Status != check.Fail {
		t.Errorf("no forwarding listener: got %s %q, want FAIL", got.Status, got.Observed)
	}
}

// TestHealthOnAWS: targets still in their initial state fail, and say to look again.
func TestHealthOnAWS(t *testing.T) {
	s := loadRecorded(t)
	s.TargetGroups[0].Health[0].TargetHealth.State = elbtypes.TargetHealthStateEnumInitial
	s.TargetGroups[0].Health[0].TargetHealth.Reason = elbtypes.TargetHealthReasonEnumRegistrationInProgress
	got := statusOf(t, s.Shapes(false), "healthy in")
	if got.Status != check.Fail || !strings.Contains(got.Observed, "1 initial (Elb.RegistrationInProgress)") ||
		!strings.Contains(got.Observed, "verify again in a few minutes") {
		t.Errorf("got %s %q", got.Status, got.Observed)
	}
}
