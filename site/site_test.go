package site

import (
	"slices"
	"testing"
)

// TestIndexPage: the index page as the stand-ins render it reads back as the drill reads it;
// an error page is not an index page.
func TestIndexPage(t *testing.T) {
	body := IndexHTML([][2]string{{InstanceID, "i-0abc"}, {PrivateIP, "10.16.4.12"}, {AZ, "ap-northeast-2c"}},
		[]string{"a.txt", "webtier-drill-1.txt"}, "rendered by a test")
	p, ok := ParseIndex(body)
	if !ok || p.Instance != "i-0abc" || p.AZ != "ap-northeast-2c" || !slices.Equal(p.Shared, []string{"a.txt", "webtier-drill-1.txt"}) || p.Note != "rendered by a test" {
		t.Errorf("got %+v, %v; want i-0abc in ap-northeast-2c sharing a.txt, webtier-drill-1.txt, noted %q, from:\n%s", p, ok, "rendered by a test", body)
	}
	if _, ok := ParseIndex("<h1>503 Service Temporarily Unavailable</h1>"); ok {
		t.Error("an error page read as an instance's page")
	}
}

// TestDBPage: the database page reads back with its endpoint, address and rows; the
// generic error visitors get is not a database page.
func TestDBPage(t *testing.T) {
	body := DBHTML("db.example", "10.16.5.10", [][3]string{{"1", "KIM", "SEOUL"}}, "")
	p, ok := ParseDB(body)
	if !ok || p.Endpoint != "db.example" || p.Addr != "10.16.5.10" || p.Rows != "<tr><td>1</td><td>KIM</td><td>SEOUL</td></tr>" {
		t.Errorf("got %+v, %v from:\n%s", p, ok, body)
	}
	if _, ok := ParseDB(Unavailable); ok {
		t.Error("the error page read as a database page")
	}
}
