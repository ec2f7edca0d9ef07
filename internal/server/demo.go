package server

import (
	"lookout/examples/cruddur"
	"lookout/internal/api"
	"lookout/internal/demo"
)

// ShowDemo lets the UI switch the troubles of lookout demo's application.
func (s *Server) ShowDemo(d *demo.Demo) { s.uiAPI.ShowDemo(demoSwitch{d}) }

// demoSwitch shows a demo to the API.
type demoSwitch struct{ d *demo.Demo }

func (w demoSwitch) Troubles() []api.DemoTrouble {
	out := make([]api.DemoTrouble, len(cruddur.Troubles))
	for i, t := range cruddur.Troubles {
		out[i] = api.DemoTrouble{Name: string(t.Name), Description: t.Description}
	}
	return out
}

func (w demoSwitch) Trouble() string              { return string(w.d.Trouble()) }
func (w demoSwitch) SetTrouble(name string) error { return w.d.SetTrouble(name) }
