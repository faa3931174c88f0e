//go:build !(amd64 || arm64 || ppc64le || riscv64 || loong64 || mips64le)

package layout

// zerobuffer runs only on 64-bit little-endian architectures; see
// core/arch_unsupported.go for the reason. This package is the first one
// built, so the same error stops the build here.
const _ = zerobuffer_requires_a_64bit_little_endian_architecture
