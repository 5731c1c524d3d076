package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"

	"arrs.nhs.uk/arrs/server"
)

// restFlags declares the REST gateway's flags: its request body limit and
// the browser origins allowed to call it (CORS).
func restFlags(fs *flag.FlagSet, o *server.RESTOptions, getenv func(string) string) error {
	o.MaxBodyBytes = server.DefaultMaxBodyBytes
	if v := getenv("ARRS_MAX_REQUEST_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("ARRS_MAX_REQUEST_BYTES %q: want a positive number of bytes", v)
		}
		o.MaxBodyBytes = n
	}
	fs.Int64Var(&o.MaxBodyBytes, "max-request-bytes", o.MaxBodyBytes,
		"largest REST request body accepted; larger is 413 (env ARRS_MAX_REQUEST_BYTES)")
	o.CORSOrigins = splitList(getenv("ARRS_CORS_ORIGINS"))
	fs.Func("cors-origins", "comma-separated browser origins allowed to call the REST API, "+
		"for example https://console.example.nhs.uk; empty: same origin only (env ARRS_CORS_ORIGINS)", func(v string) error {
		o.CORSOrigins = splitList(v)
		return nil
	})
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
