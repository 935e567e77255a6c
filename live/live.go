// Package live reads the DEPLOYED web tier back from the AWS APIs (or the local emulator) with
// aws-sdk-go-v2: it finds the stack by the VPC tagged Project=webtier (the provider's
// default_tags), follows IDs and vpc-id filters from there, and hands what it found to
// verify.LoadDeployed as verify.Deployed (typed, in AWS's IDs and ARNs: the network, what
// sends and receives in it, what lies above the packets; see Described.Deployed), which builds
// verify's one model of a stack from it, so that the very same probes and shape checks judge
// what was deployed. Elements are named by their Name tag (falling back to their ID), which
// makes the live names match the synthesized stack's: subnet web-a, web-sg, web-nacl.
//
// The reachability model is the deployed CONFIGURATION (Auto Scaling subnets and launch
// template, database subnet group, mount targets), as AWS would place instances. What was
// actually placed and what exists only at run time is checked by Shapes: registrations,
// public addresses, the Multi-AZ standby, the states of mount targets and NAT gateways,
// instance spread; what the configuration shows is checked once, on the model, by verify. Leftovers lists what of the stack survives a
// destroy.
//
// Plain Go: no cdktf or jsii import.
package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/webtier/webtier/check"
	"github.com/webtier/webtier/config"
	"github.com/webtier/webtier/deploy"
	"github.com/webtier/webtier/emulator"
	"github.com/webtier/webtier/verify"
)

// ProjectTag is the tag (and value) the provider's default_tags put on every taggable
// resource of the stack; the VPC carrying it is where the live loader starts.
const (
	ProjectTag   = "Project"
	ProjectValue = "webtier"
)

// ErrNoLocalDeployment is returned for the local target when no emulator is recorded in the
// directory, or it no longer answers.
var ErrNoLocalDeployment = errors.New("no local deployment: run `make deploy` first")

// Target says where the deployed stack is and how to reach its APIs.
type Target struct {
	// Kind is deploy.Local (moto on 127.0.0.1) or deploy.AWS. default: local
	Kind deploy.Target
	// Dir is the deploy directory; for local it records the emulator. default: .webtier/<kind>
	Dir string
	// Region is the stack's region. default: none (required)
	Region string
}

// Local reports whether the target is the local emulator, where some checks are known to
// differ from AWS.
func (t Target) Local() bool { return t.Kind == "" || t.Kind == deploy.Local }

// Connect returns the SDK configuration for the target: for local, static test credentials
// and every service at the emulator recorded in Dir (ErrNoLocalDeployment when there is none);
// for aws, the standard credential chain with the configured region.
func Connect(ctx context.Context, t Target) (aws.Config, error) {
	if t.Region == "" {
		return aws.Config{}, errors.New("live: no region: set `region` in the config")
	}
	if !t.Local() {
		cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(t.Region))
		if err != nil {
			return aws.Config{}, fmt.Errorf("live: AWS credentials: %w", err)
		}
		return cfg, nil
	}
	dir := t.Dir
	if dir == "" {
		dir = filepath.Join(".webtier", string(deploy.Local))
	}
	emu := emulator.Find(dir)
	if emu == nil {
		return aws.Config{}, ErrNoLocalDeployment
	}
	return Emulator(emu.Endpoint(), t.Region), nil
}

// Emulator is the SDK configuration for a moto server at endpoint (a loopback URL).
func Emulator(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider("test", "test", "")),
		BaseEndpoint: aws.String(endpoint),
	}
}

// Result is what Read found: the deployed stack as verify.LoadDeployed builds its model from
// it, the notes of the reading, and the shape checks.
type Result struct {
	// Where says what was read: "local: moto at http://127.0.0.1:PORT", "aws: ap-northeast-2".
	Where    string          `json:"where"`
	Deployed verify.Deployed `json:"-"`
	Notes    []string        `json:"notes,omitempty"`
	Shapes   []check.Result  `json:"shapes"`
}

// Read connects to the target, describes the stack, translates it and runs the shape checks
// (with get for the site check on AWS; nil means HTTPGet).
func Read(ctx context.Context, t Target, cfg config.Config, get Getter) (*Result, error) {
	if t.Region == "" {
		t.Region = cfg.Region
	}
	awsCfg, err := Connect(ctx, t)
	if err != nil {
		return nil, err
	}
	s, err := Describe(ctx, awsCfg)
	if err != nil {
		return nil, err
	}
	dep, notes := s.Deployed()
	if get == nil {
		get = HTTPGet
	}
	r := &Result{Where: "aws: " + t.Region, Deployed: dep, Notes: notes, Shapes: s.Check(ctx, t.Local(), get)}
	if t.Local() {
		r.Where = "local: moto at " + aws.ToString(awsCfg.BaseEndpoint)
	}
	return r, nil
}

// JSON is the deployed stack as the twin keeps it, which verify.LoadDeployedJSON reads.
func (r *Result) JSON() ([]byte, error) { return json.MarshalIndent(r.Deployed, "", "  ") }

// Model builds verify's model of the deployed stack (verify.LoadDeployed).
func (r *Result) Model() (*verify.Network, error) { return verify.LoadDeployed(r.Deployed) }

// Failed counts the shape checks that failed.
func (r *Result) Failed() int { return check.Failures(r.Shapes) }

// WriteTable writes the shape checks (and the translation's notes) as a table, with a last
// line that says whether every check passed.
func (r *Result) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "\nLIVE SHAPE: what was deployed (%s)\n", r.Where)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  CHECK\tSTATUS\tOBSERVED")
	limits := 0
	for _, s := range r.Shapes {
		status := string(s.Status)
		if s.Passed() {
			status = "OK" // this table's word for a pass
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", s.Check, status, s.Observed)
		if s.Status == check.Limitation {
			limits++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "\nLIVE NOTES: what the live loader left out")
		for _, n := range r.Notes {
			fmt.Fprintln(w, "  "+n)
		}
	}
	status := fmt.Sprintf("OK: %d shape checks passed", len(r.Shapes)-limits)
	if limits > 0 {
		status += fmt.Sprintf(", %d not observable on the emulator (EMULATOR LIMITATION above)", limits)
	}
	if n := r.Failed(); n > 0 {
		status = fmt.Sprintf("FAILED: %d of %d shape checks failed", n, len(r.Shapes))
	}
	_, err := fmt.Fprintf(w, "\nlive %s\n", status)
	return err
}
