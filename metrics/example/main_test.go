package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestServe_Scrape runs the example, scrapes /metrics over HTTP and checks
// the names, labels and values of the exported metrics.
func TestServe_Scrape(t *testing.T) {
	name := fmt.Sprintf("zbmetrics-%d", os.Getpid())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, name, time.Millisecond) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if _, err := os.Stat("/dev/shm/" + name); err == nil {
			t.Errorf("/dev/shm/%s left behind", name)
		}
	}()
	url := "http://" + ln.Addr().String() + "/metrics"
	deadline := time.Now().Add(30 * time.Second)
	var m map[string]float64
	for {
		m = scrape(t, url)
		if m[`zerobuffer_frames_total{buffer="`+name+`",side="reader"}`] >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reader's frame count never reached 5: %v", m)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, side := range []string{"reader", "writer"} {
		l := `{buffer="` + name + `",side="` + side + `"}`
		for metric, want := range map[string]float64{
			"zerobuffer_ring_size_bytes": 1 << 20,
			"zerobuffer_peer_alive":      1,
			"zerobuffer_waiting":         0,
		} {
			if got, ok := m[metric+l]; !ok || got != want {
				t.Errorf("%s%s = %v (present %v), want %v", metric, l, got, ok, want)
			}
		}
		for _, metric := range []string{"zerobuffer_frames_total", "zerobuffer_bytes_total", "zerobuffer_ring_high_water_bytes"} {
			if m[metric+l] <= 0 {
				t.Errorf("%s%s = %v, want > 0", metric, l, m[metric+l])
			}
		}
		if _, ok := m["zerobuffer_blocked_seconds_total"+l]; !ok {
			t.Errorf("zerobuffer_blocked_seconds_total%s missing", l)
		}
	}
	w, r := m[`zerobuffer_frames_total{buffer="`+name+`",side="writer"}`], m[`zerobuffer_frames_total{buffer="`+name+`",side="reader"}`]
	if r > w {
		t.Errorf("reader counted %v frames, more than the writer's %v", r, w)
	}
}

// scrape fetches a text exposition and returns "name{labels}" -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample line %q: %v", line, err)
		}
		m[line[:i]] = v
	}
	return m
}
