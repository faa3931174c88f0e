package duplex

import "errors"

// Sentinel errors of this package. Errors of the core (core.ErrClosed,
// core.ErrFrameTooLarge, context errors, ...) are returned unchanged or
// wrapped with %w, so errors.Is works on them too.
var (
	// ErrServerClosed: the server shut down gracefully ([RawServer.Close] or
	// [RawServer.Shutdown]). Serve returns it after Close or Shutdown; a
	// client returns it for calls the server did not answer before it
	// closed. The client is unusable afterwards; Dial again.
	ErrServerClosed = errors.New("zerobuffer: duplex server closed")

	// ErrServerDead: the server died, or disappeared without the client
	// seeing a graceful close. The error also matches the core error that
	// revealed it (core.ErrWriterDead from the response buffer or
	// core.ErrReaderDead from the request buffer). A client waiting for a
	// response gets it within about 100ms of the server's death. The client
	// is unusable afterwards; Dial again.
	ErrServerDead = errors.New("zerobuffer: duplex server is dead")

	// ErrHandler: the server's handler failed and the server sent an error
	// response (see "Error responses" in the package documentation). The
	// concrete error is a [*HandlerError] carrying the handler's message.
	// Only that call failed; the client stays usable.
	ErrHandler = errors.New("zerobuffer: duplex handler failed")

	// ErrNoResponse: a handler returned without committing a response (it
	// wrote nothing, or called Reserve without Commit). The server sends an
	// error response in its place and reports ErrNoResponse to its error
	// hook.
	ErrNoResponse = errors.New("zerobuffer: duplex handler wrote no response")

	// ErrResponseWritten: a handler tried to write a second response to one
	// request, or to Reserve twice.
	ErrResponseWritten = errors.New("zerobuffer: duplex response already written")

	// ErrNoPending: [RawClient.Receive] was called with no request sent by
	// [RawClient.Send] or [RawClient.Commit] left to receive.
	ErrNoPending = errors.New("zerobuffer: duplex receive without a pending request")

	// ErrUnexpectedResponse: a response arrived while no request was
	// pending. The server broke the one-response-per-request rule; the
	// client is unusable afterwards.
	ErrUnexpectedResponse = errors.New("zerobuffer: duplex response without a pending request")

	// ErrServing: Serve was called on a server that is already serving.
	ErrServing = errors.New("zerobuffer: duplex server is already serving")

	// ErrMetadataConflict: the request buffer already holds metadata from an
	// earlier client (metadata is write-once per buffer) and it differs from
	// what this client wants to declare.
	ErrMetadataConflict = errors.New("zerobuffer: duplex request buffer holds another client's metadata")

	// ErrHandlerPanic: a handler panicked. The server recovers, sends an
	// error response and reports the panic value and stack to its error
	// hook; the client sees only this message.
	ErrHandlerPanic = errors.New("zerobuffer: duplex handler panicked")

	// ErrClientDisconnected: a [RawMultiServer] disconnected this client
	// because it did not read its responses: its response ring stayed
	// full for the server's stall timeout ([WithStallTimeout]), or more
	// responses queued up in the server than the ring holds. The client
	// gets it, after the responses written before, for every pending
	// call; it is unusable afterwards: Close it and dial again.
	ErrClientDisconnected = errors.New("zerobuffer: duplex client disconnected: it did not read its responses")
)

// HandlerError is the error a client returns for an error response: the
// server's handler failed for this request. It matches [ErrHandler].
type HandlerError struct {
	// Message is the handler's error text as the server sent it (UTF-8, at
	// most [MaxErrorMessage] bytes).
	Message string
}

// Error returns the handler's message prefixed with the ErrHandler text.
func (e *HandlerError) Error() string { return ErrHandler.Error() + ": " + e.Message }

// Is reports whether target is [ErrHandler].
func (e *HandlerError) Is(target error) bool { return target == ErrHandler }
