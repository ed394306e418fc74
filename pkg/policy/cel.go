package policy

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"
)

// CostLimit is the runtime cost limit of every CEL condition (cel-go's cost units). An
// evaluation that exceeds it is Indeterminate.
const CostLimit = 100_000

// KeySubject is the CEL view of a key subject: a key that signed evidence.
type KeySubject struct {
	KeyID   string `json:"keyid"`
	KeyType string `json:"keytype"`
	Scheme  string `json:"scheme"`
	// Role is "layout" (a layout signer), "functionary" (a link signer) or "attestation".
	Role   string `json:"role"`
	Layout string `json:"layout"`
	Step   string `json:"step"`
	Issuer string `json:"issuer"`
	Serial string `json:"serial"`
}

// ArtifactSubject is the CEL view of an artifact subject: one material or product of a link.
type ArtifactSubject struct {
	Name    string            `json:"name"`
	Digests map[string]string `json:"digests"`
	// Side is "materials" or "products".
	Side   string `json:"side"`
	Step   string `json:"step"`
	Layout string `json:"layout"`
	// Signer is the keyid of the link that recorded the artifact.
	Signer string `json:"signer"`
}

type subjectKind int

const (
	subjTarget subjectKind = iota
	subjLayout
	subjStep
	subjLink
	subjAttestation
	subjKey
	subjArtifact
	numSubjects
)

var subjectNames = [...]string{"target", "layout", "step", "link", "attestation", "key", "artifact"}

func parseSubject(s string) (subjectKind, bool) {
	if s == "functionary" {
		return subjKey, true
	}
	for i, n := range subjectNames {
		if n == s {
			return subjectKind(i), true
		}
	}
	return 0, false
}

func (k subjectKind) String() string { return subjectNames[k] }

// celVars lists the variables in scope for each subject kind, besides target, params and now.
var celVars = [numSubjects][]string{
	subjTarget:      nil,
	subjLayout:      {"layout"},
	subjStep:        {"layout", "step"},
	subjLink:        {"layout", "step", "link"},
	subjAttestation: {"attestation"},
	subjKey:         {"key"},
	subjArtifact:    {"artifact"},
}

var celTypes = map[string]reflect.Type{
	"target":      reflect.TypeOf(Target{}),
	"layout":      reflect.TypeOf(Layout{}),
	"step":        reflect.TypeOf(Step{}),
	"link":        reflect.TypeOf(Link{}),
	"attestation": reflect.TypeOf(Attestation{}),
	"key":         reflect.TypeOf(KeySubject{}),
	"artifact":    reflect.TypeOf(ArtifactSubject{}),
}

func celTypeName(t reflect.Type) string { return t.String() }

// newEnvs builds one CEL environment per subject kind.
func newEnvs() ([numSubjects]*cel.Env, error) {
	var envs [numSubjects]*cel.Env
	base, err := cel.NewEnv(
		ext.NativeTypes(
			reflect.TypeOf(&Target{}), reflect.TypeOf(&Layout{}), reflect.TypeOf(&Step{}),
			reflect.TypeOf(&Link{}), reflect.TypeOf(&Attestation{}), reflect.TypeOf(&KeySubject{}),
			reflect.TypeOf(&ArtifactSubject{}), reflect.TypeOf(&Key{}), reflect.TypeOf(&RuleResult{}),
			ext.ParseStructTag("json"),
		),
		ext.Strings(),
		cel.Variable("target", cel.ObjectType(celTypeName(celTypes["target"]))),
		cel.Variable("params", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("now", cel.TimestampType),
	)
	if err != nil {
		return envs, err
	}
	for k := subjectKind(0); k < numSubjects; k++ {
		var opts []cel.EnvOption
		for _, v := range celVars[k] {
			opts = append(opts, cel.Variable(v, cel.ObjectType(celTypeName(celTypes[v]))))
		}
		e, err := base.Extend(opts...)
		if err != nil {
			return envs, err
		}
		envs[k] = e
	}
	return envs, nil
}

// condition is one compiled CEL boolean expression.
type condition struct {
	text string
	src  string
	prg  cel.Program
}

// celError is a CEL compile error at a position within the expression (1-based line, 0-based
// column, as cel-go reports them; line 0 when unknown).
type celError struct {
	line, col int
	msg       string
}

func compileCEL(env *cel.Env, text string) (cel.Program, []celError) {
	ast, iss := env.Compile(text)
	if iss != nil && iss.Err() != nil {
		var out []celError
		for _, e := range iss.Errors() {
			loc := e.Location
			line, col := 0, 0
			if loc != nil {
				line, col = loc.Line(), loc.Column()
			}
			out = append(out, celError{line: line, col: col, msg: e.Message})
		}
		return nil, out
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, []celError{{msg: fmt.Sprintf("expression has type %s, want bool", ast.OutputType())}}
	}
	// The cost limit bounds every evaluation, so no context polling is needed. When the static
	// estimate (an upper bound over all inputs) is within the limit, runtime cost tracking is
	// redundant and is left out.
	popts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if est, err := env.EstimateCost(ast, noEstimates{}); err != nil || est.Max > CostLimit {
		popts = append(popts, cel.CostLimit(CostLimit))
	}
	prg, err := env.Program(ast, popts...)
	if err != nil {
		return nil, []celError{{msg: err.Error()}}
	}
	return prg, nil
}

// activation binds the variables of one subject without allocating a map.
type activation struct {
	target *Target
	params map[string]string
	now    time.Time
	// nowVal is now as a CEL value, made on first use and then shared by the evaluation's
	// conditions (a time.Time is converted, and boxed, on every resolution otherwise).
	nowVal   ref.Val
	layout   *Layout
	step     *Step
	link     *Link
	att      *Attestation
	key      *KeySubject
	artifact *ArtifactSubject
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "target":
		return a.target, a.target != nil
	case "params":
		return a.params, true
	case "now":
		if a.nowVal == nil {
			a.nowVal = types.Timestamp{Time: a.now}
		}
		return a.nowVal, true
	case "layout":
		return a.layout, a.layout != nil
	case "step":
		return a.step, a.step != nil
	case "link":
		return a.link, a.link != nil
	case "attestation":
		return a.att, a.att != nil
	case "key":
		return a.key, a.key != nil
	case "artifact":
		return a.artifact, a.artifact != nil
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// evalBool evaluates a condition. An error (runtime error, cost limit, non-bool) is returned as
// is: the caller records the rule as Indeterminate.
func (c *condition) evalBool(ctx context.Context, a *activation) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	out, _, err := c.prg.Eval(a)
	if err != nil {
		return false, err
	}
	return asBool(out)
}

func asBool(v ref.Val) (bool, error) {
	if b, ok := v.(types.Bool); ok {
		return bool(b), nil
	}
	return false, fmt.Errorf("condition evaluated to %s, not bool", v.Type())
}

// noEstimates leaves every size and call cost to cel-go's defaults (unbounded sizes for
// variables), so the estimate is an upper bound.
type noEstimates struct{}

func (noEstimates) EstimateCallCost(function, overloadID string, target *cost.AstNode, args []cost.AstNode) *cost.CallEstimate {
	return nil
}

func (noEstimates) EstimateSize(element cost.AstNode) *cost.SizeEstimate { return nil }
