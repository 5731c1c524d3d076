// Command openapi3 turns the Swagger 2.0 description protoc-gen-openapiv2
// writes into the OpenAPI 3.0 document arrsd serves at /openapi.json, and
// writes the Go file that embeds it. `make generate` runs it after buf:
//
//	go run ./openapi3 ../gen/openapi
//
// It reads arrs.swagger.json from that directory, writes arrs.openapi.json
// and openapi.go there, and removes the Swagger file, so the one document
// clients see is the one the typed client is generated from and the lint
// checks.
//
// The conversion is kin-openapi's. What the generator cannot say, this adds,
// and nothing else:
//
//   - the bearer scheme as OpenAPI 3 states it (`type: http, scheme:
//     bearer`); Swagger 2.0 can only call it an API key;
//   - the two unauthenticated paths that are not RPCs: GET /healthz and GET
//     /openapi.json, with `security: []`;
//   - on every `*Pence` property, the pattern of an integer written as a
//     string (proto3 JSON writes int64 so), so money is typed as pence in
//     every schema without a line of configuration per field.
//
// Output is deterministic: encoding/json sorts map keys.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
)

const (
	swaggerFile = "arrs.swagger.json"
	openAPIFile = "arrs.openapi.json"
	goFile      = "openapi.go"
	bearer      = "bearer"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: openapi3 DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "openapi3:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	in, err := os.ReadFile(filepath.Join(dir, swaggerFile))
	if err != nil {
		return err
	}
	var v2 openapi2.T
	if err := json.Unmarshal(in, &v2); err != nil {
		return fmt.Errorf("%s: %w", swaggerFile, err)
	}
	doc, err := openapi2conv.ToV3(&v2)
	if err != nil {
		return fmt.Errorf("convert: %w", err)
	}
	doc.Servers = openapi3.Servers{{URL: "/", Description: "The arrsd serving this document."}}
	bearerScheme(doc)
	openPaths(doc)
	money(doc)
	if err := dropUnused(doc); err != nil {
		return err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	out = append(out, '\n')
	if err := os.WriteFile(filepath.Join(dir, openAPIFile), out, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, goFile), []byte(embedSource), 0o644); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, swaggerFile))
}

// bearerScheme replaces the API-key stand-in with an HTTP bearer scheme.
func bearerScheme(doc *openapi3.T) {
	if doc.Components == nil {
		doc.Components = &openapi3.Components{}
	}
	if doc.Components.SecuritySchemes == nil {
		doc.Components.SecuritySchemes = openapi3.SecuritySchemes{}
	}
	description := ""
	if old := doc.Components.SecuritySchemes[bearer]; old != nil && old.Value != nil {
		description = old.Value.Description
	}
	doc.Components.SecuritySchemes[bearer] = &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
		Type: "http", Scheme: "bearer", BearerFormat: "JWT", Description: description,
	}}
}

// openPaths documents the two paths every caller may use without a token.
func openPaths(doc *openapi3.T) {
	get := func(id, summary, description, mediaType string, schema *openapi3.Schema) *openapi3.PathItem {
		ok := openapi3.NewResponse().WithDescription(description).
			WithContent(openapi3.NewContentWithSchema(schema, []string{mediaType}))
		op := &openapi3.Operation{
			OperationID: id,
			Summary:     summary,
			Tags:        []string{"Service"},
			Security:    &openapi3.SecurityRequirements{},
			Responses:   openapi3.NewResponses(openapi3.WithStatus(200, &openapi3.ResponseRef{Value: ok})),
		}
		return &openapi3.PathItem{Get: op}
	}
	health := openapi3.NewObjectSchema().WithProperty("status", openapi3.NewStringSchema().
		WithEnum("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"))
	health.Required = []string{"status"}
	unhealthy := openapi3.NewResponse().WithDescription("Not serving: the schema is not current yet, or the server is stopping.").
		WithContent(openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/rpcStatus", nil)))
	h := get("Service_Health", "Liveness and readiness, from the gRPC health service.",
		"Serving.", "application/json", health)
	h.Get.Responses.Set("503", &openapi3.ResponseRef{Value: unhealthy})
	d := get("Service_OpenAPI", "This OpenAPI document.", "The document.", "application/json", openapi3.NewObjectSchema())
	for _, item := range []*openapi3.PathItem{h, d} {
		notAllowed := openapi3.NewResponse().WithDescription("Not GET (or HEAD); `Allow` lists the methods.").
			WithContent(openapi3.NewContentWithJSONSchemaRef(openapi3.NewSchemaRef("#/components/schemas/rpcStatus", nil)))
		item.Get.Responses.Set("405", &openapi3.ResponseRef{Value: notAllowed})
	}
	doc.Paths.Set("/healthz", h)
	doc.Paths.Set("/openapi.json", d)
	if !hasTag(doc, "Service") {
		doc.Tags = append(doc.Tags, &openapi3.Tag{Name: "Service", Description: "Health and this description."})
	}
}

func hasTag(doc *openapi3.T, name string) bool {
	for _, t := range doc.Tags {
		if t.Name == name {
			return true
		}
	}
	return false
}

// money gives every *Pence property the pattern of an integer string.
func money(doc *openapi3.T) {
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	seen := map[*openapi3.Schema]bool{}
	for _, name := range names {
		pence(doc.Components.Schemas[name], seen)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					pence(mt.Schema, seen)
				}
			}
		}
	}
}

func pence(ref *openapi3.SchemaRef, seen map[*openapi3.Schema]bool) {
	if ref == nil || ref.Ref != "" || ref.Value == nil || seen[ref.Value] {
		return
	}
	s := ref.Value
	seen[s] = true
	for name, p := range s.Properties {
		if strings.HasSuffix(name, "Pence") && p.Ref == "" && p.Value != nil && p.Value.Type.Is("string") {
			p.Value.Pattern = `^-?[0-9]+$`
			if !strings.Contains(strings.ToLower(p.Value.Description), "pence") {
				p.Value.Description = strings.TrimSpace(p.Value.Description + " In pence.")
			}
		}
		pence(p, seen)
	}
	pence(s.Items, seen)
}

// dropUnused removes component schemas nothing refers to: enums the
// generator also inlines as query parameters (ClaimView) would otherwise be
// left as dead definitions.
func dropUnused(doc *openapi3.T) error {
	for {
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		removed := false
		for name := range doc.Components.Schemas {
			if !strings.Contains(string(b), `"#/components/schemas/`+name+`"`) {
				delete(doc.Components.Schemas, name)
				removed = true
			}
		}
		if !removed {
			return nil
		}
	}
}

const embedSource = `// Code generated by tools/openapi3. DO NOT EDIT.

// Package openapi embeds the OpenAPI 3.0 description of the arrs REST API
// that arrsd serves at /openapi.json.
package openapi

import _ "embed"

// JSON is arrs.openapi.json.
//
//go:embed arrs.openapi.json
var JSON []byte
`
