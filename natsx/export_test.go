package natsx

// StreamName exposes streamName to the external tests.
var StreamName = streamName
