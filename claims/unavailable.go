package claims

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"

	"github.com/lib/pq"
)

// DatabaseUnavailable reports whether err means PostgreSQL could not do the
// work right now, rather than that the request or arrs was wrong: the
// server is unreachable, shutting down or starting up, out of connection
// slots, or the connection broke. The caller may retry later: a broken
// connection rolls back an open transaction, and when it broke during
// COMMIT, a retry is still safe because creates carry request ids and
// transitions etags. The server maps it to UNAVAILABLE.
//
// It matches by identity and SQLSTATE, never by message text.
func DatabaseUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		switch {
		case pqErr.Code.Class() == "08": // connection exception
			return true
		case pqErr.Code == "57P01", pqErr.Code == "57P02", pqErr.Code == "57P03": // admin shutdown, crash shutdown, cannot connect now (starting up or shutting down)
			return true
		case pqErr.Code == "53300": // too many connections
			return true
		}
		return false
	}
	// lib/pq reports a connection it has given up on as driver.ErrBadConn
	// (a FATAL error such as 57P01 included); database/sql then retries on
	// a fresh connection, and a dial that fails is a *net.OpError. A server
	// that closes a new connection during its start-up handshake (as it
	// shuts down) reaches us as a bare io.EOF; the store reads no files or
	// streams, so from the store an EOF is always the connection's.
	var netErr *net.OpError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
