package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/zerobuffer/zerobuffer-go/internal/layout"
	"github.com/zerobuffer/zerobuffer-go/platform"
)

// inspection is the output of inspect.
type inspection struct {
	Buffer   bufferInfo   `json:"buffer"`
	Path     string       `json:"path"`
	OIEB     *layout.OIEB `json:"oieb,omitempty"`
	Health   string       `json:"health"` // healthy < 80 % used, degraded 80-95 %, critical > 95 %
	Metadata *preview     `json:"metadata,omitempty"`
	// Unread is the number of unread frames found by the walk from
	// payload_read_pos; Frames lists the first of them.
	Unread      uint64      `json:"unread"`
	UnreadBytes uint64      `json:"unread_bytes"` // headers included
	Frames      []frameInfo `json:"frames"`
	Issues      []string    `json:"issues"`
}

// preview shows the start of the metadata.
type preview struct {
	Length int    `json:"length"`
	Text   string `json:"text,omitempty"` // when the content is printable UTF-8
	Hex    string `json:"hex,omitempty"`  // otherwise, a hex dump of the start
}

// frameInfo is one unread frame.
type frameInfo struct {
	Offset   uint64 `json:"offset"` // ring offset of the header
	Size     uint64 `json:"size"`
	Sequence uint64 `json:"sequence"`
	Wrapped  bool   `json:"wrapped,omitempty"` // reached by wrapping to offset 0
}

const walkLimit = 1 << 20 // frames walked at most

func runInspect(e *env, args []string) error {
	f := newFlags("inspect", "NAME [--json] [--frames N]", `
Decode one buffer without modifying it (the shared memory is mapped
read-only): the OIEB, a metadata preview (text or hex), the unread frames
walked from payload_read_pos (at most written_count - read_count items),
the health band of the ring (healthy < 80 % used, degraded 80-95 %,
critical > 95 %) and every inconsistency found. A live buffer changes while
it is read, so a busy one may show transient issues; the reader's fields
may also lag while it holds a backlog.`)
	asJSON := f.Bool("json", false, "print JSON")
	maxFrames := f.Int("frames", 32, "list at most `N` unread frames (all are walked and checked)")
	pos, err := parse(e, f, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect needs exactly one buffer name")
	}
	in, err := inspect(pos[0], e.dirs, max(*maxFrames, 0))
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, in)
	}
	return in.text(e.stdout)
}

func inspect(name string, d platform.Dirs, maxFrames int) (*inspection, error) {
	b, err := probe(name, d)
	if err != nil {
		return nil, err
	}
	names, _ := platform.ObjectNames(name, d)
	in := &inspection{Buffer: b, Path: names.Shm, Health: b.health(), Frames: []frameInfo{}, Issues: []string{}}
	if b.Problem != "" {
		in.issue("%s", b.Problem)
	}
	if !b.Shm {
		in.issue("shared memory object missing (leftover lock file or semaphores)")
	}
	if b.Stale {
		in.issue("stale: no live reader (lock %s, reader pid %d)", b.ReaderLock, b.ReaderPID)
	}
	if b.Semaphores < 2 && b.Shm {
		in.issue("%d of 2 semaphores present", b.Semaphores)
	}
	if b.WriterPID != 0 && !b.WriterAlive {
		in.issue("writer pid %d is dead (it did not disconnect)", b.WriterPID)
	}
	if !b.Valid {
		return in, nil
	}
	seg, err := platform.OpenSegment(names.Shm, false)
	if err != nil {
		return nil, err
	}
	defer seg.Close()
	// Decode again from this mapping: the walk must use the same snapshot
	// of the OIEB as the one printed.
	mem := seg.Bytes()
	o, err := layout.DecodeOIEB(mem)
	if err != nil {
		return nil, err
	}
	g, err := o.Validate(uint64(len(mem)))
	if err != nil {
		in.issue("%v", err)
		return in, nil
	}
	in.OIEB = &o
	in.check(o, g, uint64(len(mem)))
	in.Metadata = metadataPreview(mem[g.MetadataOffset():g.PayloadOffset()], o.MetadataWrittenBytes)
	in.walk(mem[g.PayloadOffset():g.SegmentSize()], o, maxFrames)
	return in, nil
}

func (in *inspection) issue(format string, a ...any) {
	in.Issues = append(in.Issues, fmt.Sprintf(format, a...))
}

// check looks for contradictions between OIEB fields.
func (in *inspection) check(o layout.OIEB, g layout.Geometry, mapLen uint64) {
	if mapLen != g.SegmentSize() {
		in.issue("segment is %d bytes, header describes %d", mapLen, g.SegmentSize())
	}
	if o.PayloadReadCount > o.PayloadWrittenCount {
		in.issue("read_count %d > written_count %d", o.PayloadReadCount, o.PayloadWrittenCount)
	}
	if o.MetadataWrittenBytes+o.MetadataFreeBytes != g.MetadataSize && o.MetadataWrittenBytes != 0 {
		in.issue("metadata written %d + free %d != size %d", o.MetadataWrittenBytes, o.MetadataFreeBytes, g.MetadataSize)
	}
	if o.Reserved != [4]uint64{} {
		in.issue("reserved words are not zero: %v", o.Reserved)
	}
}

// walk follows the unread frames from read_pos.
func (in *inspection) walk(ring []byte, o layout.OIEB, maxFrames int) {
	if o.PayloadReadCount > o.PayloadWrittenCount {
		return
	}
	items := o.PayloadWrittenCount - o.PayloadReadCount
	pos := o.PayloadReadPos
	var prev uint64
	for n := uint64(0); n < items && in.Unread < walkLimit; {
		loc, err := layout.NextFrame(ring, pos)
		if err != nil {
			in.issue("frame walk at ring offset %d after %d frames: %v", pos, in.Unread, err)
			return
		}
		if n += loc.Markers; n >= items {
			break // the last unread item was a wrap marker
		}
		n++
		in.Unread++
		in.UnreadBytes += layout.HeaderSize + loc.Size + loc.Skipped
		if prev != 0 && loc.Sequence != prev+1 {
			in.issue("frame at ring offset %d has sequence %d after %d", loc.Offset-layout.HeaderSize, loc.Sequence, prev)
		}
		prev = loc.Sequence
		if len(in.Frames) < maxFrames {
			in.Frames = append(in.Frames, frameInfo{Offset: loc.Offset - layout.HeaderSize, Size: loc.Size,
				Sequence: loc.Sequence, Wrapped: loc.Skipped > 0})
		}
		pos = loc.Next
	}
	if used := o.PayloadSize - o.PayloadFreeBytes; in.UnreadBytes > used {
		in.issue("unread frames take %d bytes but only %d are in use", in.UnreadBytes, used)
	}
}

// metadataPreview shows up to 256 bytes of the metadata content.
func metadataPreview(block []byte, written uint64) *preview {
	m, ok, err := layout.Metadata(block, written)
	if err != nil || !ok {
		return nil
	}
	p := &preview{Length: len(m)}
	head := m[:min(len(m), 256)]
	if printable(head) {
		p.Text = string(head)
	} else {
		p.Hex = hex.Dump(head)
	}
	return p
}

func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func (in *inspection) text(w io.Writer) error {
	b := &in.Buffer
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "buffer\t%s (%s, %s)\n", displayName(b.Name), b.state(), in.Health)
	fmt.Fprintf(tw, "path\t%s (%d bytes)\n", in.Path, b.SegmentBytes)
	fmt.Fprintf(tw, "reader\t%s, lock %s\n", pidState(b.ReaderPID, b.ReaderAlive), b.ReaderLock)
	fmt.Fprintf(tw, "writer\t%s\n", pidState(b.WriterPID, b.WriterAlive))
	if len(b.Owners) > 0 {
		fmt.Fprintf(tw, "owners\tuid %s\n", strings.Trim(fmt.Sprint(b.Owners), "[]"))
	}
	if o := in.OIEB; o != nil {
		fmt.Fprintf(tw, "used\t%d of %d bytes (%.1f%%)\n", b.UsedBytes, b.PayloadSize, b.Utilisation)
		fmt.Fprintln(tw, "\nOIEB")
		for _, kv := range []struct {
			k string
			v any
		}{
			{"oieb_size", o.OIEBSize}, {"version", fmt.Sprintf("%d.%d.%d", o.Version[0], o.Version[1], o.Version[2])},
			{"metadata_size", o.MetadataSize}, {"metadata_free_bytes", o.MetadataFreeBytes},
			{"metadata_written_bytes", o.MetadataWrittenBytes}, {"payload_size", o.PayloadSize},
			{"payload_free_bytes", o.PayloadFreeBytes}, {"payload_write_pos", o.PayloadWritePos},
			{"payload_read_pos", o.PayloadReadPos}, {"payload_written_count", o.PayloadWrittenCount},
			{"payload_read_count", o.PayloadReadCount}, {"writer_pid", o.WriterPID}, {"reader_pid", o.ReaderPID},
		} {
			fmt.Fprintf(tw, "  %s\t%v\n", kv.k, kv.v)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var s strings.Builder
	switch m := in.Metadata; {
	case m == nil:
		s.WriteString("\nmetadata: none\n")
	case m.Text != "":
		fmt.Fprintf(&s, "\nmetadata: %d bytes, text: %q\n", m.Length, m.Text)
	default:
		fmt.Fprintf(&s, "\nmetadata: %d bytes, hex:\n%s", m.Length, m.Hex)
	}
	fmt.Fprintf(&s, "\nunread frames: %d (%d bytes with headers)\n", in.Unread, in.UnreadBytes)
	if len(in.Frames) > 0 {
		fmt.Fprintf(&s, "  %-10s %-10s %s\n", "OFFSET", "SIZE", "SEQUENCE")
		for _, f := range in.Frames {
			wrap := ""
			if f.Wrapped {
				wrap = "  (after wrap)"
			}
			fmt.Fprintf(&s, "  %-10d %-10d %d%s\n", f.Offset, f.Size, f.Sequence, wrap)
		}
		if uint64(len(in.Frames)) < in.Unread {
			fmt.Fprintf(&s, "  ... %d more\n", in.Unread-uint64(len(in.Frames)))
		}
	}
	if len(in.Issues) == 0 {
		s.WriteString("\nissues: none\n")
	} else {
		s.WriteString("\nissues:\n")
		for _, i := range in.Issues {
			fmt.Fprintf(&s, "  - %s\n", i)
		}
	}
	_, err := io.WriteString(w, s.String())
	return err
}
