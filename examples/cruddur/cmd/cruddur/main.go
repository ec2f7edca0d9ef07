// Command cruddur serves Cruddur's backend API on $PORT (4567), as the bootcamp's Flask app did.
package main

import (
	"cmp"
	"log"
	"net/http"
	"os"

	"lookout/examples/cruddur"
)

func main() {
	addr := ":" + cmp.Or(os.Getenv("PORT"), "4567")
	svc := cruddur.New(cruddur.Config{FrontendURL: os.Getenv("FRONTEND_URL"), BackendURL: os.Getenv("BACKEND_URL")})
	log.Printf("cruddur listening on %s", addr)
	log.Fatal(http.ListenAndServe(addr, svc))
}
