// Command winstub writes bcryptprimitives.dll, a 1 KiB PE32+ (x86-64) DLL
// whose only export, ProcessPrng, forwards to advapi32.SystemFunction036
// (RtlGenRandom).
//
// Every Go binary since Go 1.22 resolves bcryptprimitives!ProcessPrng at
// start-up and dies with "bcryptprimitives.dll not found" where it is
// missing, as in Debian 12's wine 8.0 (docs/PLATFORMS.md section 2). The
// runtime tests only the low byte of the result, so RtlGenRandom's
// BOOLEAN is enough. Copy the file into the wine prefix:
//
//	go run ./internal/winstub "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
//
// Real Windows has the DLL; never install this there.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
)

// Layout: headers in the first 0x200 bytes of the file, one read-only
// section (.edata) at file offset 0x200 / RVA 0x1000 holding the export
// directory, its three tables and the strings.
const (
	fileAlign    = 0x200
	sectAlign    = 0x1000
	sectRVA      = 0x1000
	peOffset     = 0x40
	optHdrSize   = 240 // PE32+ optional header with 16 data directories
	exportDirLen = 40

	dllName   = "bcryptprimitives.dll"
	export    = "ProcessPrng"
	forwarder = "advapi32.SystemFunction036"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: winstub OUTPUT.dll")
		os.Exit(2)
	}
	if err := os.WriteFile(os.Args[1], Image(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "winstub:", err)
		os.Exit(1)
	}
}

// Image returns the DLL file.
func Image() []byte {
	edata, edataLen := exportSection()
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }

	// DOS header: "MZ" and e_lfanew; nothing else is read.
	dos := make([]byte, peOffset)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], peOffset)
	b.Write(dos)

	// PE signature and COFF file header.
	b.WriteString("PE\x00\x00")
	w(uint16(0x8664))          // Machine: AMD64
	w(uint16(1))               // NumberOfSections
	w(uint32(0))               // TimeDateStamp
	w(uint32(0))               // PointerToSymbolTable
	w(uint32(0))               // NumberOfSymbols
	w(uint16(optHdrSize))      // SizeOfOptionalHeader
	w(uint16(0x2000 | 0x0022)) // DLL | LARGE_ADDRESS_AWARE | EXECUTABLE_IMAGE

	// Optional header (PE32+).
	w(uint16(0x20b))                                 // Magic
	w([2]uint8{14, 0})                               // linker version
	w(uint32(0))                                     // SizeOfCode
	w(uint32(fileAlign))                             // SizeOfInitializedData
	w(uint32(0))                                     // SizeOfUninitializedData
	w(uint32(0))                                     // AddressOfEntryPoint: no DllMain
	w(uint32(sectRVA))                               // BaseOfCode
	w(uint64(0x180000000))                           // ImageBase
	w(uint32(sectAlign))                             // SectionAlignment
	w(uint32(fileAlign))                             // FileAlignment
	w([4]uint16{6, 0, 0, 0})                         // OS and image version
	w([2]uint16{6, 0})                               // subsystem version
	w(uint32(0))                                     // Win32VersionValue
	w(uint32(sectRVA + sectAlign))                   // SizeOfImage
	w(uint32(fileAlign))                             // SizeOfHeaders
	w(uint32(0))                                     // CheckSum
	w(uint16(3))                                     // Subsystem: console
	w(uint16(0x0160))                                // DllCharacteristics: HIGH_ENTROPY_VA | DYNAMIC_BASE | NX_COMPAT (no absolute addresses to relocate)
	w([4]uint64{0x100000, 0x1000, 0x100000, 0x1000}) // stack and heap reserve/commit
	w(uint32(0))                                     // LoaderFlags
	w(uint32(16))                                    // NumberOfRvaAndSizes
	w([2]uint32{sectRVA, uint32(edataLen)})          // export directory
	for range 15 {
		w([2]uint32{})
	}

	// Section header.
	var name [8]byte
	copy(name[:], ".edata")
	w(name)
	w(uint32(len(edata))) // VirtualSize
	w(uint32(sectRVA))    // VirtualAddress
	w(uint32(fileAlign))  // SizeOfRawData
	w(uint32(fileAlign))  // PointerToRawData
	w([2]uint32{})        // relocations, line numbers (pointers)
	w([2]uint16{})        // relocations, line numbers (counts)
	w(uint32(0x40000040)) // INITIALIZED_DATA | MEM_READ

	pad(&b, fileAlign)
	b.Write(edata)
	pad(&b, 2*fileAlign)
	return b.Bytes()
}

// exportSection returns the .edata contents and the length of the export
// data proper. The loader treats an export whose address lies inside the
// export directory's range as a forwarder string, so the forwarder must lie
// within edataLen.
func exportSection() (edata []byte, edataLen int) {
	const (
		eat   = sectRVA + exportDirLen // AddressOfFunctions: 1 entry
		enpt  = eat + 4                // AddressOfNames: 1 entry
		eot   = enpt + 4               // AddressOfNameOrdinals: 1 entry
		strs  = eot + 2
		nameS = strs
		expS  = nameS + len(dllName) + 1
		fwdS  = expS + len(export) + 1
		end   = fwdS + len(forwarder) + 1
	)
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(uint32(0))     // Characteristics
	w(uint32(0))     // TimeDateStamp
	w([2]uint16{})   // version
	w(uint32(nameS)) // Name
	w(uint32(1))     // Base (ordinal of the first export)
	w(uint32(1))     // NumberOfFunctions
	w(uint32(1))     // NumberOfNames
	w(uint32(eat))   // AddressOfFunctions
	w(uint32(enpt))  // AddressOfNames
	w(uint32(eot))   // AddressOfNameOrdinals
	w(uint32(fwdS))  // EAT[0]: forwarder string
	w(uint32(expS))  // ENPT[0]
	w(uint16(0))     // EOT[0]: index into the EAT
	for _, s := range []string{dllName, export, forwarder} {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.Bytes(), end - sectRVA
}

func pad(b *bytes.Buffer, to int) {
	for b.Len() < to {
		b.WriteByte(0)
	}
}
