//go:build !(amd64 || arm64 || ppc64le || riscv64 || loong64 || mips64le)

package core

// zerobuffer runs only on 64-bit little-endian architectures (amd64,
// arm64, ppc64le, riscv64, loong64, mips64le). Every OIEB word is a
// little-endian u64 (docs/PROTOCOL.md sections 2-3) that both peers update
// with 64-bit atomic instructions (section 11), and the Reader and Writer
// read and write these words in place, in the machine's byte order: on a
// big-endian machine every field would be misread, and on a 32-bit one a
// 64-bit word could be torn. A portable fallback would cost every access a
// byte swap or a lock that the peers do not share, so the build stops
// here instead, with the error below naming the reason.
const _ = zerobuffer_requires_a_64bit_little_endian_architecture
