package main

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"testing"
)

// TestImage parses the DLL the way the Windows loader resolves
// GetProcAddress(ProcessPrng): export directory, name table, ordinal
// table, address table, and an address inside the export directory,
// which makes it a forwarder string.
func TestImage(t *testing.T) {
	img := Image()
	if len(img) != 1024 {
		t.Errorf("image is %d bytes", len(img))
	}
	f, err := pe.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_DLL == 0 {
		t.Errorf("machine %#x, characteristics %#x", f.Machine, f.Characteristics)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatal("not PE32+")
	}
	if oh.AddressOfEntryPoint != 0 || oh.SizeOfImage != 0x2000 {
		t.Errorf("entry %#x, image size %#x", oh.AddressOfEntryPoint, oh.SizeOfImage)
	}
	dir := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_EXPORT]
	if len(f.Sections) != 1 {
		t.Fatalf("%d sections", len(f.Sections))
	}
	sec := f.Sections[0]
	if sec.Characteristics != pe.IMAGE_SCN_CNT_INITIALIZED_DATA|pe.IMAGE_SCN_MEM_READ {
		t.Errorf("section characteristics %#x: not readable data", sec.Characteristics)
	}
	data, err := sec.Data()
	if err != nil {
		t.Fatal(err)
	}
	at := func(rva uint32) []byte { return data[rva-sec.VirtualAddress:] }
	cstr := func(rva uint32) string { b := at(rva); return string(b[:bytes.IndexByte(b, 0)]) }
	u32 := func(rva uint32) uint32 { return binary.LittleEndian.Uint32(at(rva)) }

	ed := dir.VirtualAddress
	if got := cstr(u32(ed + 12)); got != dllName {
		t.Errorf("DLL name %q", got)
	}
	if n, names := u32(ed+20), u32(ed+24); n != 1 || names != 1 {
		t.Errorf("%d functions, %d names", n, names)
	}
	if got := cstr(u32(u32(ed + 32))); got != "ProcessPrng" {
		t.Errorf("export name %q", got)
	}
	ord := binary.LittleEndian.Uint16(at(u32(ed + 36)))
	fn := u32(u32(ed+28) + 4*uint32(ord))
	if fn < dir.VirtualAddress || fn >= dir.VirtualAddress+dir.Size {
		t.Fatalf("export address %#x outside the export directory %#x+%#x: not a forwarder", fn, dir.VirtualAddress, dir.Size)
	}
	if got := cstr(fn); got != "advapi32.SystemFunction036" {
		t.Errorf("forwarder %q", got)
	}
}
