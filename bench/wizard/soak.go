package main

import (
	"context"
	"errors"
	"io"
)

type soakSetup struct {
	bin, tmp                      string
	common, altinnVars, serveVars map[string]string
	webURL, simURL                string
	simProc                       *process
	dbURL                         string
	pprofAddr                     string
}

func runSoak(ctx context.Context, o options, s soakSetup, stdout io.Writer, logf func(string, ...any)) error {
	return errors.New("not yet")
}
