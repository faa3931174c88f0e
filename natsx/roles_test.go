package natsx_test

import "github.com/zerobuffer/zerobuffer-go/internal/testproc"

var roles = map[string]testproc.Role{}
