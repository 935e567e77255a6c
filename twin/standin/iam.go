package standin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/webtier/webtier/policy"
	"github.com/webtier/webtier/verify"
)

// The twin's stand-in for IAM and STS. A web server's metadata service hands out credentials
// of the stack's web role (when its launch template gives it one), and the stand-ins of the
// services AWS authorizes, the EFS mount targets and the Secrets Manager endpoint, check them
// and decide each call with the stack's own policies (verify.Access): a stack whose policies
// refuse a call fails on the twin as it would on AWS. A key made for each twin (stsKeyFile in
// the state directory) derives every secret access key from its key ID, so that a server the
// Auto Scaling controller launches later gets credentials the others accept. A call is signed
// with an HMAC-SHA256 of what it asks, where AWS uses Signature Version 4.

// stsKeyFile holds the twin's key.
const stsKeyFile = "sts.key"

// WriteSTSKey makes the twin's key in the state directory state, from which every instance's
// metadata service derives its credentials: made once, at `twin up`, before any stand-in starts.
func WriteSTSKey(state string) error {
	key := make([]byte, 32)
	rand.Read(key)
	return os.WriteFile(filepath.Join(state, stsKeyFile), []byte(hex.EncodeToString(key)), 0o600)
}

// readSTSKey reads the twin's key.
func readSTSKey(state string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(state, stsKeyFile))
	if err != nil {
		return nil, fmt.Errorf("the twin's STS key: %w", err)
	}
	return hex.DecodeString(strings.TrimSpace(string(data)))
}

// credentials are an instance role's temporary credentials, as the metadata service's
// iam/security-credentials/ROLE answers them.
type credentials struct {
	Code            string `json:"Code"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	Token           string `json:"Token"`
	Expiration      string `json:"Expiration"`
}

func mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	io.WriteString(m, strings.Join(parts, "\n"))
	return hex.EncodeToString(m.Sum(nil))
}

// issue makes the credentials of one instance.
func issue(key []byte, instanceID string) credentials {
	id := "ASIATWIN" + strings.ToUpper(mac(key, "id", instanceID)[:12])
	return credentials{Code: "Success", AccessKeyID: id, SecretAccessKey: mac(key, "secret", id),
		Token: "webtier-twin", Expiration: time.Now().Add(6 * time.Hour).UTC().Format(time.RFC3339)}
}

// authorization signs what a call asks with c: the value of its authorization.
func (c credentials) authorization(what string) string {
	at := strconv.FormatInt(time.Now().Unix(), 10)
	return c.AccessKeyID + " " + at + " " + mac([]byte(c.SecretAccessKey), at, what)
}

// signedSkew is how far a signature's time may be from the stand-in's, as SigV4's 5 minutes.
const signedSkew = 5 * time.Minute

// authenticate checks the authorization of a call asking what: nil when its signature is the
// twin's credentials'.
func authenticate(key []byte, auth, what string) error {
	f := strings.Fields(auth)
	if len(f) != 3 {
		return errors.New("the request is not signed")
	}
	id, at, sig := f[0], f[1], f[2]
	secs, err := strconv.ParseInt(at, 10, 64)
	if err != nil || time.Since(time.Unix(secs, 0)).Abs() > signedSkew {
		return errors.New("the signature's time is not within 5 minutes")
	}
	if !hmac.Equal([]byte(sig), []byte(mac([]byte(mac(key, "secret", id)), at, what))) {
		return errors.New("the signature does not match (an unknown access key)")
	}
	return nil
}

// imdsCredentials reads the instance role's credentials from the metadata service as the AWS
// CLI and efs-utils do: the role's name, then its credentials.
func imdsCredentials(ctx context.Context, client *http.Client) (credentials, error) {
	var c credentials
	role, err := imdsRead(ctx, client, "iam/security-credentials/")
	if err != nil {
		return c, fmt.Errorf("the instance has no role credentials: %w", err)
	}
	data, err := imdsRead(ctx, client, "iam/security-credentials/"+strings.TrimSpace(role))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil || c.AccessKeyID == "" {
		return c, fmt.Errorf("the metadata service's credentials are not JSON with an AccessKeyId")
	}
	return c, nil
}

// principalOf is who a call signed with auth comes from: the web servers' role when the
// signature is the twin's, anonymous when it is not signed, or why it cannot be believed.
func principalOf(state string, access *verify.Access, auth, what string) (string, error) {
	if auth == "" {
		return policy.Anonymous, nil
	}
	key, err := readSTSKey(state)
	if err != nil {
		return "", err
	}
	if err := authenticate(key, auth, what); err != nil {
		return "", err
	}
	// The twin's metadata services give credentials of the web servers' role only.
	return access.Role, nil
}

// refusal says who was refused what, and the policies' reason, as AWS's AccessDenied does.
func refusal(principal, action, resource string, d policy.Decision) string {
	if principal == policy.Anonymous {
		principal = "anonymous"
	}
	return fmt.Sprintf("User: %s is not authorized to perform: %s on resource: %s (%s)", principal, action, resource, d.Why)
}
