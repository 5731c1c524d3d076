package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	arrsproto "arrs.nhs.uk/arrs/proto"
)

// binding is one HTTP rule of proto/arrs/v1/arrs_http.yaml, resolved against
// the compiled descriptors: what a REST request to its method and path
// template may carry.
type binding struct {
	rpc protoreflect.MethodDescriptor
	// body is "" (the method takes no body), "*" (the body is the request
	// less its path fields) or the name of the request field it fills.
	body string
	// pathFields are the request's top-level fields the path template binds.
	pathFields map[protoreflect.Name]bool
}

// bodyMessage is what the request body decodes into, or nil when the
// method takes no body.
func (b binding) bodyMessage() protoreflect.MessageDescriptor {
	switch b.body {
	case "":
		return nil
	case "*":
		return b.rpc.Input()
	}
	return b.rpc.Input().Fields().ByName(protoreflect.Name(b.body)).Message()
}

// offersCSV says whether the method's response can be served as CSV.
func (b binding) offersCSV() bool {
	f := b.rpc.Output().Fields().ByName("csv")
	return f != nil && f.Kind() == protoreflect.StringKind
}

// asksForCSV reports whether the request has an include_csv switch, which
// a REST caller accepting text/csv turns on by asking for CSV.
func (b binding) asksForCSV() bool {
	f := b.rpc.Input().Fields().ByName("include_csv")
	return f != nil && f.Kind() == protoreflect.BoolKind
}

// bindingKey is how bindings are looked up: the HTTP method and the path
// template as the gateway's runtime.Pattern prints it, which is the
// template as written in the rules ("/v1/{name=pcns/*/posts/*}:recruit").
func bindingKey(method, template string) string { return method + " " + template }

// pathVariable matches a path template's variables: "{post.name=pcns/*/posts/*}".
var pathVariable = regexp.MustCompile(`\{([a-z_][a-z0-9_.]*)(=[^}]*)?\}`)

// loadBindings reads the HTTP rules and resolves each against the
// registered descriptors. A rule naming an RPC, a body field or a path
// field that does not exist is an error: the gateway generated from the
// same rules would not compile, so this only fails if the two drift.
func loadBindings(rules []byte) (map[string]binding, error) {
	var doc struct {
		HTTP struct {
			Rules []struct {
				Selector string `yaml:"selector"`
				Get      string `yaml:"get"`
				Post     string `yaml:"post"`
				Patch    string `yaml:"patch"`
				Put      string `yaml:"put"`
				Delete   string `yaml:"delete"`
				Body     string `yaml:"body"`
			} `yaml:"rules"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal(rules, &doc); err != nil {
		return nil, fmt.Errorf("HTTP rules: %w", err)
	}
	out := make(map[string]binding, len(doc.HTTP.Rules))
	for _, r := range doc.HTTP.Rules {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(r.Selector))
		if err != nil {
			return nil, fmt.Errorf("HTTP rule %s: %w", r.Selector, err)
		}
		md, ok := d.(protoreflect.MethodDescriptor)
		if !ok {
			return nil, fmt.Errorf("HTTP rule %s: not an RPC", r.Selector)
		}
		method, template := "", ""
		for _, mt := range []struct{ method, template string }{
			{http.MethodGet, r.Get}, {http.MethodPost, r.Post}, {http.MethodPatch, r.Patch},
			{http.MethodPut, r.Put}, {http.MethodDelete, r.Delete},
		} {
			if mt.template != "" {
				method, template = mt.method, mt.template
			}
		}
		b := binding{rpc: md, body: r.Body, pathFields: map[protoreflect.Name]bool{}}
		for _, m := range pathVariable.FindAllStringSubmatch(template, -1) {
			top, _, _ := strings.Cut(m[1], ".")
			if md.Input().Fields().ByName(protoreflect.Name(top)) == nil {
				return nil, fmt.Errorf("HTTP rule %s: path binds unknown field %s", r.Selector, m[1])
			}
			b.pathFields[protoreflect.Name(top)] = true
		}
		if b.body != "" && b.body != "*" {
			f := md.Input().Fields().ByName(protoreflect.Name(b.body))
			if f == nil || f.Message() == nil || f.IsList() {
				return nil, fmt.Errorf("HTTP rule %s: body %q is not a message field", r.Selector, b.body)
			}
		}
		if method == "" {
			return nil, fmt.Errorf("HTTP rule %s: no method and path", r.Selector)
		}
		out[bindingKey(method, template)] = b
	}
	return out, nil
}

// mustLoadBindings loads the embedded rules, which a test proves load.
func mustLoadBindings() map[string]binding {
	b, err := loadBindings(arrsproto.HTTPRules)
	if err != nil {
		panic(err)
	}
	return b
}
