package bench

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestZZProf(t *testing.T) {
	which := os.Getenv("ZZ")
	if which == "" {
		t.Skip()
	}
	tc := typedCodecs[which]
	fb, _ := tc.frameBytes(64)
	r, _, err := typedPairRate(context.Background(), "typed-"+which, 64, fb, 3*time.Second, tc.recv)
	t.Logf("%s %.2f M", which, r/1e6)
	if err != nil {
		t.Fatal(err)
	}
}
