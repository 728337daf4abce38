package n8n

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/influencegen/influencegen/app"
)

// ExecutionReport is the domain's view of one n8n run (did it fail, where,
// why: texts cleaned and clipped) plus the request id the run was given,
// which FindExecution matches on. The run's input (which holds the app's
// API key) is never kept.
type ExecutionReport struct {
	app.N8NExecution
	RequestID string `json:"request_id,omitempty"`
}

type executionDetail struct {
	ID         flexID     `json:"id"`
	WorkflowID flexID     `json:"workflowId"`
	Status     string     `json:"status"`
	StartedAt  time.Time  `json:"startedAt"`
	StoppedAt  *time.Time `json:"stoppedAt"`
	Data       struct {
		ResultData struct {
			Error *struct {
				Message     string `json:"message"`
				Description string `json:"description"`
				Node        *struct {
					Name string `json:"name"`
				} `json:"node"`
			} `json:"error"`
			LastNodeExecuted string `json:"lastNodeExecuted"`
			RunData          map[string][]struct {
				Data struct {
					Main [][]struct {
						JSON struct {
							Body struct {
								RequestID json.RawMessage `json:"ai_generation_request_id"`
							} `json:"body"`
						} `json:"json"`
					} `json:"main"`
				} `json:"data"`
			} `json:"runData"`
		} `json:"resultData"`
	} `json:"data"`
}

// Execution reads one execution with its data and reduces it to a report.
func (a *Admin) Execution(ctx context.Context, id string) (ExecutionReport, error) {
	var d executionDetail
	if err := a.do(ctx, http.MethodGet, "/executions/"+url.PathEscape(id)+"?includeData=true", nil, &d); err != nil {
		return ExecutionReport{}, err
	}
	r := ExecutionReport{N8NExecution: app.N8NExecution{ID: string(d.ID), WorkflowID: string(d.WorkflowID),
		Status: app.ClipText(app.CleanLine(d.Status), 40), StartedAt: d.StartedAt, StoppedAt: d.StoppedAt}}
	r.EditorURL = a.EditorURL(r.WorkflowID, r.ID)
	res := d.Data.ResultData
	if e := res.Error; e != nil {
		r.Message = e.Message
		if e.Description != "" && e.Description != e.Message {
			r.Message += ": " + e.Description
		}
		r.Message = app.ClipText(app.CleanLine(r.Message), 500)
		r.FailedNode = res.LastNodeExecuted
		if e.Node != nil && e.Node.Name != "" {
			r.FailedNode = e.Node.Name
		}
		r.FailedNode = app.ClipText(app.CleanLine(r.FailedNode), 120)
	}
	if runs := res.RunData["Webhook"]; len(runs) > 0 && len(runs[0].Data.Main) > 0 && len(runs[0].Data.Main[0]) > 0 {
		raw := runs[0].Data.Main[0][0].JSON.Body.RequestID
		var s string
		if json.Unmarshal(raw, &s) != nil {
			s = string(raw)
		}
		if s != "null" {
			r.RequestID = app.ClipText(app.CleanLine(s), 80)
		}
	}
	return r, nil
}

// FindExecution finds the run that handled requestID: by the execution id
// the callback reported, else among the workflow's runs that started
// within window of sentAt (n8n keeps failed runs; successful ones are not
// saved by the shipped templates).
func (a *Admin) FindExecution(ctx context.Context, workflowID, executionID, requestID string, sentAt time.Time, window time.Duration) (ExecutionReport, error) {
	if executionID != "" {
		return a.Execution(ctx, executionID)
	}
	list, err := a.Executions(ctx, workflowID, 100)
	if err != nil {
		return ExecutionReport{}, err
	}
	for _, e := range list {
		if !sentAt.IsZero() && (e.StartedAt.Before(sentAt.Add(-window)) || e.StartedAt.After(sentAt.Add(window))) {
			continue
		}
		r, err := a.Execution(ctx, string(e.ID))
		if err != nil {
			return ExecutionReport{}, err
		}
		if r.RequestID == requestID {
			return r, nil
		}
	}
	return ExecutionReport{}, app.ReasonErrorf(app.ENOTFOUND, "n8n_execution_not_found",
		"n8n has no saved run for request %s (successful runs are not saved; runs are deleted with their workflow)", requestID)
}
