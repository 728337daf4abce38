// Package ui is the terminal dashboard (Bubble Tea v2): compose requests,
// watch them arrive live, preview images, and administer secrets.
//
// It depends only on package app: main hands it a Backend of interfaces.
// It must never import store, n8n or odoo, never do I/O inside Update (every
// read and write happens in a tea.Cmd), never mutate the model from a Cmd,
// and never write to stdout or stderr while the program runs — logs go to
// the file logger in Backend.Log.
package ui
