package natsx_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/zerobuffer/zerobuffer-go/codec"
	"github.com/zerobuffer/zerobuffer-go/codec/msgpack"
	"github.com/zerobuffer/zerobuffer-go/natsx"
	"github.com/zerobuffer/zerobuffer-go/typed"
)

// metaValue returns the value the metadata bucket holds for subj's
// stream, or nil if the key is absent or deleted.
func metaValue(t *testing.T, ctx context.Context, js jetstream.JetStream, bucket, subj string) []byte {
	t.Helper()
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		t.Fatalf("bucket %s: %v", bucket, err)
	}
	e, err := kv.Get(ctx, natsx.StreamName(subj))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return e.Value()
}

// TestMetadataInBucket: a sender's metadata is stored in the ZB_META
// bucket, stamped with the stream's creation time, and the stream's
// configuration is left as created (updating it raced inside nats-server
// with a receiver creating its consumer). The receiver reads it (codec
// check, user metadata), a sender of another codec is refused, and Remove
// deletes the key so that the channel name can be reused with another
// codec.
func TestMetadataInBucket(t *testing.T) {
	ctx, _, nc, subj := testChannel(t, 30*time.Second)
	js := jsContext(t, nc)
	c := msgpack.New[event]()
	tx, err := natsx.Dial(ctx, nc, subj, c, natsx.WithMetadata([]byte("user bytes")))
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, natsx.StreamName(subj))
	if err != nil {
		t.Fatal(err)
	}
	if md := st.CachedInfo().Config.Metadata; md["zerobuffer-metadata"] != "" {
		t.Fatalf("stream configuration was updated with the metadata: %v", md)
	}
	v := metaValue(t, ctx, js, "ZB_META", subj)
	if len(v) < 8 {
		t.Fatalf("bucket value %q", v)
	}
	if got, want := binary.BigEndian.Uint64(v), uint64(st.CachedInfo().Created.UnixNano()); got != want {
		t.Fatalf("value stamped %d, stream created %d", got, want)
	}
	want, _ := codec.AppendMetadata(nil, c.Name(), []byte("user bytes"))
	if string(v[8:]) != string(want) {
		t.Fatalf("bucket holds %q, want %q", v[8:], want)
	}

	rx, err := natsx.Listen(ctx, nc, subj, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, event{Seq: 7}); err != nil {
		t.Fatal(err)
	}
	if ev, err := rx.Recv(ctx); err != nil || ev.Seq != 7 {
		t.Fatalf("recv: %v %v", ev, err)
	}
	if got := string(rx.Metadata()); got != "user bytes" {
		t.Fatalf("receiver metadata %q", got)
	}
	// Write-once: a sender of another codec is refused, one of the same
	// codec with other user bytes does not change what is stored.
	if _, err := natsx.Dial(ctx, nc, subj, rawEvent{}); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("other codec: %v, want ErrCodecMismatch", err)
	}
	tx2, err := natsx.Dial(ctx, nc, subj, c, natsx.WithMetadata([]byte("other")))
	if err != nil {
		t.Fatal(err)
	}
	tx2.Close()
	if v2 := metaValue(t, ctx, js, "ZB_META", subj); string(v2) != string(v) {
		t.Fatalf("value changed from %q to %q", v, v2)
	}
	tx.Close()
	rx.Close()

	if err := natsx.Remove(ctx, nc, subj); err != nil {
		t.Fatal(err)
	}
	if v := metaValue(t, ctx, js, "ZB_META", subj); v != nil {
		t.Fatalf("Remove left the metadata: %q", v)
	}
	tx3, err := natsx.Dial(ctx, nc, subj, rawEvent{})
	if err != nil {
		t.Fatalf("other codec after Remove: %v", err)
	}
	tx3.Close()
	if _, err := natsx.Dial(ctx, nc, subj, c); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("first codec after Remove and redeclaration: %v, want ErrCodecMismatch", err)
	}
}

// TestMetadataLeftover: a stream deleted without Remove (by another tool)
// leaves its key behind; a new stream of the same name does not inherit
// it (the value's stamp is not the new stream's creation time).
func TestMetadataLeftover(t *testing.T) {
	ctx, _, nc, subj := testChannel(t, 30*time.Second)
	js := jsContext(t, nc)
	tx, err := natsx.Dial(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
	if err := js.DeleteStream(ctx, natsx.StreamName(subj)); err != nil {
		t.Fatal(err)
	}
	if v := metaValue(t, ctx, js, "ZB_META_MEM_R1", subj); v == nil {
		t.Fatal("no leftover key: the test does not test what it says")
	}
	tx, err = natsx.Dial(ctx, nc, subj, rawEvent{}, natsx.WithMemoryStorage())
	if err != nil {
		t.Fatalf("new stream inherited the old metadata: %v", err)
	}
	tx.Close()
	if _, err := natsx.Dial(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage()); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("old codec on the new stream: %v, want ErrCodecMismatch", err)
	}
}

// TestMetadataConcurrent: senders of two codecs and a receiver start at
// once on a new channel, several times over (the receiver creating its
// consumer while senders declare metadata is what raced inside
// nats-server when the metadata was a stream configuration update).
// Exactly one codec wins: every sender that Dial accepted has it, every
// other one fails with ErrCodecMismatch, and the receiver agrees.
func TestMetadataConcurrent(t *testing.T) {
	rounds := 10
	if testing.Short() {
		rounds = 4
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc := connect(t, server(t).URL())
	for r := range rounds {
		subj := subject(t) + "." + string(rune('a'+r))
		var wg sync.WaitGroup
		const senders = 6
		errs := make([]error, senders)
		names := make([]string, senders)
		txs := make([]*natsx.Sender[event], senders)
		var rx *natsx.Receiver[event]
		var rxErr error
		wg.Add(senders + 1)
		go func() {
			defer wg.Done()
			rx, rxErr = natsx.Listen(ctx, nc, subj, msgpack.New[event]())
		}()
		for i := range senders {
			go func() {
				defer wg.Done()
				var enc codec.Encoder[event] = msgpack.New[event]()
				if i%2 == 1 {
					enc = rawEvent{}
				}
				names[i] = enc.Name()
				txs[i], errs[i] = natsx.Dial(ctx, nc, subj, enc)
			}()
		}
		wg.Wait()
		if rxErr != nil {
			t.Fatalf("round %d: listen: %v", r, rxErr)
		}
		winner := ""
		for i, err := range errs {
			if err == nil {
				if winner != "" && names[i] != winner {
					t.Fatalf("round %d: senders of %s and %s both accepted", r, winner, names[i])
				}
				winner = names[i]
			} else if !errors.Is(err, typed.ErrCodecMismatch) {
				t.Fatalf("round %d: sender %d: %v", r, i, err)
			}
		}
		if winner == "" {
			t.Fatalf("round %d: every sender refused: %v", r, errs)
		}
		for i, tx := range txs {
			if tx == nil {
				continue
			}
			if names[i] != winner {
				t.Fatalf("round %d: sender %d of %s accepted, winner %s", r, i, names[i], winner)
			}
			if err := tx.Send(ctx, event{Seq: i}); err != nil {
				t.Fatal(err)
			}
			tx.Close()
		}
		_, err := rx.Recv(ctx)
		if winner == msgpack.Name && err != nil {
			t.Fatalf("round %d: receiver: %v", r, err)
		}
		if winner != msgpack.Name && !errors.Is(err, typed.ErrCodecMismatch) {
			t.Fatalf("round %d: receiver of msgpack, channel of %s: %v", r, winner, err)
		}
		rx.Close()
		if err := natsx.Remove(ctx, nc, subj); err != nil {
			t.Fatal(err)
		}
	}
}

// TestMetadataUntrusted: what the bucket or an earlier version's stream
// configuration holds is peer data: a value too short for its stamp is a
// clear error, an earlier version's declaration in the stream
// configuration is still honoured (read, never written).
func TestMetadataUntrusted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nc := connect(t, server(t).URL())
	js := jsContext(t, nc)

	// A short value under the key of a new channel's stream.
	subj := subject(t) + ".short"
	defer natsx.Remove(context.Background(), nc, subj)
	tx, err := natsx.Dial(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	tx.Close()
	kv, err := js.KeyValue(ctx, "ZB_META_MEM_R1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, natsx.StreamName(subj), []byte{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := natsx.Dial(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage()); !errors.Is(err, natsx.ErrBadMessage) {
		t.Fatalf("short value: %v, want ErrBadMessage", err)
	}

	// A stream as an earlier version left it: metadata in its configuration.
	subj2 := subject(t) + ".legacy"
	defer natsx.Remove(context.Background(), nc, subj2)
	md, _ := codec.AppendMetadata(nil, codec.RawName, nil)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{
		Name:      natsx.StreamName(subj2),
		Subjects:  []string{subj2},
		Retention: jetstream.WorkQueuePolicy,
		Storage:   jetstream.MemoryStorage,
		Metadata:  map[string]string{"zerobuffer-metadata": base64.StdEncoding.EncodeToString(md)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsx.Dial(ctx, nc, subj2, msgpack.New[event]()); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("legacy declaration of raw, msgpack sender: %v, want ErrCodecMismatch", err)
	}
	tx, err = natsx.Dial(ctx, nc, subj2, rawEvent{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Close()
	rx, err := natsx.Listen(ctx, nc, subj2, msgpack.New[event]())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if err := tx.Send(ctx, event{Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, typed.ErrCodecMismatch) {
		t.Fatalf("legacy declaration of raw, msgpack receiver: %v, want ErrCodecMismatch", err)
	}
}

// TestRemoveUnderSender: a channel removed while a JetStream sender is
// open makes the sender's Send and Close fail with ErrRemoved promptly,
// instead of retrying as during a server restart until Close's own
// 10-second bound.
func TestRemoveUnderSender(t *testing.T) {
	ctx, _, nc, subj := testChannel(t, 30*time.Second)
	tx, err := natsx.Dial(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Send(ctx, event{Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := natsx.Remove(ctx, nc, subj); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = tx.Send(ctx, event{Seq: 2})
	if !errors.Is(err, natsx.ErrRemoved) {
		t.Fatalf("Send after Remove: %v, want ErrRemoved", err)
	}
	err = tx.Close()
	if !errors.Is(err, natsx.ErrRemoved) {
		t.Fatalf("Close after Remove: %v, want ErrRemoved", err)
	}
	// Each answer takes a failed publish and one stream lookup; 5 s is
	// far below Close's 10 s bound, which the old code ran into.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Send and Close after Remove took %v", d)
	}
}

// TestRemoveUnderReceiver: a channel removed under a JetStream receiver
// ends its Recv with ErrRemoved once the server's idle heartbeats are
// missed (here every 500 ms), instead of waiting for ever.
func TestRemoveUnderReceiver(t *testing.T) {
	defer natsx.SetPullHeartbeat(natsx.SetPullHeartbeat(500 * time.Millisecond))
	ctx, _, nc, subj := testChannel(t, 60*time.Second)
	rx, err := natsx.Listen(ctx, nc, subj, msgpack.New[event](), natsx.WithMemoryStorage())
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if err := natsx.Remove(ctx, nc, subj); err != nil {
		t.Fatal(err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, natsx.ErrRemoved) {
		t.Fatalf("Recv after Remove: %v, want ErrRemoved", err)
	}
	if _, err := rx.Recv(ctx); !errors.Is(err, natsx.ErrRemoved) {
		t.Fatalf("second Recv after Remove: %v, want ErrRemoved again", err)
	}
}
