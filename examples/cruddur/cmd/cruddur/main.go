// Command cruddur serves Cruddur's backend API on $PORT (4567), as the bootcamp's Flask app did,
// reporting through each client library whose environment variables are set (see
// cruddur.InstrumentsFromEnv). CRUDDUR_TROUBLE switches one of the authors' mistakes on.
package main

import (
	"cmp"
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"lookout/examples/cruddur"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	trouble, err := cruddur.ParseTrouble(os.Getenv("CRUDDUR_TROUBLE"))
	if err != nil {
		return err
	}
	in, stopInstruments, err := cruddur.InstrumentsFromEnv(ctx, os.Getenv, os.Stderr)
	if err != nil {
		return err
	}
	svc := cruddur.New(cruddur.Config{FrontendURL: os.Getenv("FRONTEND_URL"), BackendURL: os.Getenv("BACKEND_URL"), Instruments: in})
	svc.SetTrouble(trouble)
	in.Logger.Info("some message") // the bootcamp's startup line
	srv := &http.Server{Addr: ":" + cmp.Or(os.Getenv("PORT"), "4567"), Handler: svc}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	log.Printf("cruddur listening on %s", srv.Addr)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(srv.Shutdown(shutdownCtx), stopInstruments(shutdownCtx))
}
