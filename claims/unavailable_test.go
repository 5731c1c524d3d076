package claims

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"
)

func TestDatabaseUnavailableByIdentityAndSQLSTATE(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown (57P01)", &pq.Error{Code: "57P01", Message: "terminating connection due to administrator command"}, true},
		{"crash shutdown (57P02)", &pq.Error{Code: "57P02"}, true},
		{"shutting down or starting up (57P03), wrapped", fmt.Errorf("begin: %w", &pq.Error{Code: "57P03"}), true},
		{"connection failure (08006)", &pq.Error{Code: "08006"}, true},
		{"cannot connect (08001)", &pq.Error{Code: "08001"}, true},
		{"too many connections (53300)", &pq.Error{Code: "53300", Message: "sorry, too many clients already"}, true},
		{"a connection the driver gave up on", fmt.Errorf("list posts: %w", driver.ErrBadConn), true},
		{"a connection already closed", sql.ErrConnDone, true},
		{"a refused dial", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"a reset connection", fmt.Errorf("begin: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), true},
		{"a connection closed during its handshake", fmt.Errorf("begin: %w", io.EOF), true},
		{"a connection closed mid-message", io.ErrUnexpectedEOF, true},
		{"a cancelled query (57014) is the caller's", &pq.Error{Code: "57014"}, false},
		{"a missing relation (42P01) is a bug", &pq.Error{Code: "42P01"}, false},
		{"a unique violation is a conflict", &pq.Error{Code: "23505"}, false},
		{"a deadline is for the server to judge", context.DeadlineExceeded, false},
		{"text that looks like an outage is not matched", errors.New("pq: the database system is shutting down"), false},
		{"no error", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := DatabaseUnavailable(tc.err); got != tc.want {
				t.Errorf("DatabaseUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
