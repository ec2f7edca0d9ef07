package api

import (
	"encoding/json"
	"net/http"
)

// GET /api/v1/demo: the troubles of lookout demo's application and the one that is on.
// PUT /api/v1/demo {"trouble": "missing-return"}: switch one on ("" for none).
// Both answer 404 when no demo runs.

// Demo is the trouble switch of lookout demo's application.
type Demo interface {
	Troubles() []DemoTrouble
	Trouble() string
	SetTrouble(name string) error
}

// DemoTrouble is one trouble the demo can switch on.
type DemoTrouble struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// ShowDemo lets the UI switch d's troubles; it may be called once the API serves.
func (a *API) ShowDemo(d Demo) { a.demo.Store(&d) }

type demoState struct {
	Trouble  string        `json:"trouble"`
	Troubles []DemoTrouble `json:"troubles"`
}

func (a *API) demoSwitch() (Demo, error) {
	d := a.demo.Load()
	if d == nil {
		return nil, &apiError{kind: kindNotFound, msg: "no demo is running: start lookout with lookout demo"}
	}
	return *d, nil
}

func (a *API) getDemo(*http.Request) (any, error) {
	d, err := a.demoSwitch()
	if err != nil {
		return nil, err
	}
	return demoState{Trouble: d.Trouble(), Troubles: d.Troubles()}, nil
}

func (a *API) setDemo(r *http.Request) (any, error) {
	d, err := a.demoSwitch()
	if err != nil {
		return nil, err
	}
	var in struct {
		Trouble string `json:"trouble"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4096)).Decode(&in); err != nil {
		return nil, &apiError{kind: kindBadRequest, msg: "the body must be {\"trouble\": NAME}"}
	}
	if err := d.SetTrouble(in.Trouble); err != nil {
		return nil, &apiError{kind: kindBadRequest, msg: err.Error()}
	}
	return demoState{Trouble: d.Trouble(), Troubles: d.Troubles()}, nil
}
