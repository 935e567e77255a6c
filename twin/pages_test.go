package twin

import (
	"slices"
	"testing"
)

// TestParsePage reads the pages constructs/web-init.sh writes.
func TestParsePage(t *testing.T) {
	body := `<!doctype html><title>webtier</title>
<h1>Instance data</h1>
<table border="1"><tr><th>Data</th><th>Value</th></tr>
<tr><td>Instance ID</td><td>i-0abc</td></tr>
<tr><td>Private IP Address</td><td>10.16.4.12</td></tr>
<tr><td>Availability Zone</td><td>ap-northeast-2c</td></tr>
</table>
<h2>Shared files (EFS at /var/www/html/efs)</h2>
<ul><li>a.txt</li><li>webtier-drill-1.txt</li></ul>
<p><a href="/db.php">Database page</a></p>`
	p, ok := ParsePage(body)
	if !ok || p.Instance != "i-0abc" || p.AZ != "ap-northeast-2c" || !slices.Equal(p.Shared, []string{"a.txt", "webtier-drill-1.txt"}) {
		t.Errorf("got %+v, %v; want i-0abc in ap-northeast-2c sharing a.txt, webtier-drill-1.txt", p, ok)
	}
	if _, ok := ParsePage("<h1>503 Service Temporarily Unavailable</h1>"); ok {
		t.Error("an error page read as an instance's page")
	}
}
