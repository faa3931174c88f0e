package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/zerobuffer/zerobuffer-go/natsx"
)

// TestRunNATS runs the NATS rows briefly on an embedded server: every rate
// and latency is measured (not zero), the plain-with-reply case found the
// natsx sender's reply subject, and the table prints every column.
func TestRunNATS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := RunNATS(ctx, NATSConfig{Sizes: []int{64}, Duration: 120 * time.Millisecond, Samples: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rep.Rows))
	}
	r := rep.Rows[0]
	if r.PlainCore <= 0 || r.PlainReply <= 0 || r.OurCore <= 0 || r.OurCoreSingle <= 0 || r.OurJS <= 0 {
		t.Errorf("a rate is missing: %+v", r)
	}
	if rep.DirectP50 <= 0 || rep.BridgeP50 <= 0 || rep.CoreP50 <= 0 || rep.CoreSingleP50 <= 0 {
		t.Errorf("latency: direct %v, bridged %v, core %v, core single %v", rep.DirectP50, rep.BridgeP50, rep.CoreP50, rep.CoreSingleP50)
	}
	var md bytes.Buffer
	if err := rep.Markdown(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 64 B |", "plain + reply", "natsx core / plain", "Bridge, 64 B one-way p50", "one message per Send", "natsx core, 64 B one-way p50"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
}

// TestNATSReplyCaptured: the natsx core flow learns the reply subject its
// sender puts on every message (from the sender's announcement), so the
// plain-with-reply case carries one of the same length.
func TestNATSReplyCaptured(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := natsx.StartEmbedded(natsx.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var conns [2]*nats.Conn
	for i := range conns {
		if conns[i], err = nats.Connect(srv.URL()); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	f, err := natsxFlow(ctx, conns[0], conns[1], natsx.Core)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	if !strings.HasPrefix(f.reply, "_ZB.") || len(f.reply) < len("_ZB.x.raw") || !strings.HasSuffix(f.reply, ".raw") {
		t.Fatalf("reply subject %q, want _ZB.<id>.raw", f.reply)
	}
}
