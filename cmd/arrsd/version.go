package main

import (
	"fmt"
	"io"

	"arrs.nhs.uk/arrs/internal/buildinfo"
)

// printVersion writes which build this is (see package buildinfo), one
// "name value" line each, for people and scripts alike:
//
//	version v1.2.0
//	commit  3f1c9e0…
//	go      go1.26.8
func printVersion(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments, got %q", args[0])
	}
	info := buildinfo.Get()
	_, err := fmt.Fprintf(stdout, "version %s\ncommit  %s\ngo      %s\n", info.Version, info.Commit, info.GoVersion)
	return err
}
