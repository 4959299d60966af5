//! Condition corpus: conditions of the kinds in Argo's docs and examples (and the corner cases
//! users hit), each with the outcome the real `github.com/antonmedv/expr` v1.15.5 gives inside
//! Argo's `EvalCondition` environment. The expected values were produced by running Argo's
//! `utils/evaluate` code against expr v1.15.5; one line per case.
//!
//! `kind` says how `result` is built: `float` (a Prometheus scalar; `"NaN"`/`"+Inf"` allowed),
//! `floats` (a Prometheus vector, `[]float64`), `json` (a web metric's decoded JSON), `nil`.

use super::{Value, eval_condition};

const CORPUS: &str = r##"
{"kind": "floats", "result": [0.99], "cond": "result[0] >= 0.95", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] <= 0.95", "value": false}
{"kind": "floats", "result": [0.99], "cond": "result[0] >= 0.90", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] >= 10", "value": false}
{"kind": "floats", "result": [0.99], "cond": "result[0] < 0.50", "value": false}
{"kind": "floats", "result": [0.99], "cond": "len(result) > 0 && result[0] >= 0.95", "value": true}
{"kind": "floats", "result": [0.99], "cond": "len(result) == 0 || result[0] >= 0.95", "value": true}
{"kind": "floats", "result": [0.99], "cond": "all(result, # < 1000)", "value": true}
{"kind": "floats", "result": [0.99], "cond": "all(result, {# <= 0.01})", "value": false}
{"kind": "floats", "result": [0.99], "cond": "any(result, {# > 0.5})", "value": true}
{"kind": "floats", "result": [0.99], "cond": "none(result, {# > 1})", "value": true}
{"kind": "floats", "result": [0.99], "cond": "one(result, {# > 0.5})", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result >= 0.95", "err": "invalid operation: >= (mismatched types []float64 and float64)"}
{"kind": "floats", "result": [0.99], "cond": "isNaN(result)", "err": "cannot use []float64 as argument (type float64) to call isNaN "}
{"kind": "floats", "result": [0.99], "cond": "isNaN(result[0]) || result[0] >= 0.95", "value": true}
{"kind": "floats", "result": [0.99], "cond": "default(result, 0) < 10", "err": "invalid operation: []float64 < int"}
{"kind": "floats", "result": [0.99], "cond": "result[1] > 0", "err": "reflect: slice index out of range"}
{"kind": "floats", "result": [0.99], "cond": "result[-1] >= 0.95", "value": true}
{"kind": "floats", "result": [0.99], "cond": "filter(result, {# > 0.5})[0] > 0.9", "value": true}
{"kind": "floats", "result": [0.99], "cond": "len(filter(result, {# > 0.5})) == 1", "value": true}
{"kind": "floats", "result": [0.99], "cond": "map(result, {# * 100})[0] > 90", "value": true}
{"kind": "floats", "result": [0.99], "cond": "count(result, {# > 0.5}) == 1", "value": true}
{"kind": "floats", "result": [0.99], "cond": "sum(result) > 0.5", "value": true}
{"kind": "floats", "result": [0.99], "cond": "mean(result) > 0.9", "value": true}
{"kind": "floats", "result": [0.99], "cond": "max(result[0], 1) == 1", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0]", "err": "expected bool, but got float64"}
{"kind": "floats", "result": [0.99], "cond": "result == nil", "value": false}
{"kind": "floats", "result": [0.99], "cond": "result[0:1][0] > 0", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] > 0.5 and result[0] < 1", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result.foo > 1", "err": "array elements can only be selected using an integer (got string)"}
{"kind": "floats", "result": [0.99], "cond": "isNil(result)", "value": false}
{"kind": "floats", "result": [0.99], "cond": "result[0] * 100 >= 99", "value": true}
{"kind": "floats", "result": [0.99], "cond": "asInt(result[0] * 100) == 99", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] >= 0.95 || result[0] == nil", "value": true}
{"kind": "floats", "result": [0.99], "cond": "first(result) == 0.99", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] in [0.99, 1]", "value": true}
{"kind": "floats", "result": [0.99], "cond": "result[0] > 1 ? false : true", "value": true}
{"kind": "floats", "result": [0.99], "cond": "map(result, {#index})[0] == 0", "value": true}
{"kind": "floats", "result": [2, 2], "cond": "2 in result", "value": true}
{"kind": "floats", "result": [2, 2], "cond": "3 not in result", "value": true}
{"kind": "floats", "result": [2, 2], "cond": "all(result, {# == 2})", "value": true}
{"kind": "floats", "result": [2, 2], "cond": "median(result) == 2", "value": true}
{"kind": "floats", "result": [], "cond": "result[0] >= 0.95", "err": "reflect: slice index out of range"}
{"kind": "floats", "result": [], "cond": "len(result) == 0 || result[0] >= 0.95", "value": true}
{"kind": "floats", "result": [], "cond": "all(result, {# < 1})", "value": true}
{"kind": "floats", "result": [], "cond": "isNil(result)", "value": false}
{"kind": "floats", "result": [], "cond": "default(result, 0) < 10", "err": "invalid operation: []float64 < int"}
{"kind": "floats", "result": [], "cond": "any(result, {# > 1})", "value": false}
{"kind": "floats", "result": [], "cond": "sum(result) == 0", "value": true}
{"kind": "floats", "result": [], "cond": "mean(result) == 0", "value": true}
{"kind": "floats", "result": ["NaN"], "cond": "isNaN(result[0])", "value": true}
{"kind": "floats", "result": ["NaN"], "cond": "result[0] >= 0.95", "value": false}
{"kind": "floats", "result": ["NaN"], "cond": "result[0] < 0.95", "value": false}
{"kind": "float", "result": 0.96, "cond": "result >= 0.95", "value": true}
{"kind": "float", "result": 0.96, "cond": "result < 0.95", "value": false}
{"kind": "float", "result": 0.96, "cond": "isNaN(result) || result >= 0.95", "value": true}
{"kind": "float", "result": 0.96, "cond": "isInf(result)", "value": false}
{"kind": "float", "result": 0.96, "cond": "result == 0.96", "value": true}
{"kind": "float", "result": 0.96, "cond": "asInt(result) == 0", "value": true}
{"kind": "float", "result": 0.96, "cond": "asFloat(result) > 0.9", "value": true}
{"kind": "float", "result": 0.96, "cond": "result[0] > 1", "err": "type float64[int] is undefined"}
{"kind": "float", "result": 0.96, "cond": "result > 'a'", "err": "invalid operation: > (mismatched types float64 and string)"}
{"kind": "float", "result": 0.96, "cond": "result * 100 > 95", "value": true}
{"kind": "float", "result": 0.96, "cond": "result ** 2 < 1", "value": true}
{"kind": "float", "result": 0.96, "cond": "result % 2 == 0", "err": "invalid operation: % (mismatched types float64 and int)"}
{"kind": "float", "result": 0.96, "cond": "-result < 0", "value": true}
{"kind": "float", "result": 0.96, "cond": "!(result > 1)", "value": true}
{"kind": "float", "result": 0.96, "cond": "not (result > 1)", "value": true}
{"kind": "float", "result": 0.96, "cond": "result > 0.5 ? true : false", "value": true}
{"kind": "float", "result": 0.96, "cond": "result in [0.96, 1]", "value": true}
{"kind": "float", "result": 0.96, "cond": "abs(result - 1) < 0.1", "value": true}
{"kind": "float", "result": 0.96, "cond": "round(result) == 1", "value": true}
{"kind": "float", "result": 0.96, "cond": "result + 1", "err": "expected bool, but got float64"}
{"kind": "float", "result": 0.96, "cond": "1 / 0 > 1", "value": true}
{"kind": "float", "result": 0.96, "cond": "result > 0.5 or unknown", "err": "unknown name unknown"}
{"kind": "float", "result": 0.96, "cond": "invalidVariable", "err": "unknown name invalidVariable"}
{"kind": "float", "result": 0.96, "cond": "1", "err": "expected bool, but got int"}
{"kind": "float", "result": 0.96, "cond": "result = 1", "err": "unexpected token Operator(\"=\")"}
{"kind": "float", "result": 0.96, "cond": "result >", "err": "unexpected token EOF"}
{"kind": "float", "result": 0.96, "cond": "result >= 0.95)", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 0.96, "cond": "(result", "err": "unexpected token EOF"}
{"kind": "float", "result": 0.96, "cond": "result >= '0.95'", "err": "invalid operation: >= (mismatched types float64 and string)"}
{"kind": "float", "result": 0.96, "cond": "isNaN(1)", "value": false}
{"kind": "float", "result": 0.96, "cond": "asInt(result)", "err": "expected bool, but got int64"}
{"kind": "float", "result": 0.96, "cond": "result == 1 && true", "value": false}
{"kind": "float", "result": 0.96, "cond": "true", "value": true}
{"kind": "float", "result": 0.96, "cond": "false", "value": false}
{"kind": "float", "result": 0.96, "cond": "result > 0.9 && result < 1.0", "value": true}
{"kind": "float", "result": 0.96, "cond": "isNaN(result, 1)", "err": "too many arguments to call isNaN"}
{"kind": "float", "result": 0.96, "cond": "asInt()", "err": "not enough arguments to call asInt"}
{"kind": "float", "result": 0.96, "cond": "default(result)", "err": "not enough arguments to call default"}
{"kind": "float", "result": 0.96, "cond": "floor(result * 10) == 9", "value": true}
{"kind": "float", "result": 0.96, "cond": "result between 1", "err": "unexpected token Identifier(\"between\")"}
{"kind": "float", "result": 0.96, "cond": "result > 0.5 || nil", "err": "invalid operation: || (mismatched types bool and <nil>)"}
{"kind": "float", "result": 0.96, "cond": "result ?? 1 > 0", "err": "Operator (>) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."}
{"kind": "float", "result": 0.96, "cond": "int(result * 100) == 96", "value": true}
{"kind": "float", "result": 0.96, "cond": "string(result) == '0.96'", "value": true}
{"kind": "float", "result": 0.96, "cond": "result in 0..1", "value": false}
{"kind": "float", "result": 0.96, "cond": "isNaN(asInt(result))", "err": "interface conversion: interface {} is int64, not float64"}
{"kind": "float", "result": 0.96, "cond": "#", "err": "cannot use pointer accessor outside closure"}
{"kind": "float", "result": 0.96, "cond": "result.x", "err": "type float64[string] is undefined"}
{"kind": "float", "result": 0.96, "cond": "let x = result; x > 0.5", "value": true}
{"kind": "float", "result": 0.96, "cond": "result |> 1", "err": "unexpected token Operator(\">\")"}
{"kind": "float", "result": 0.96, "cond": "result > 0.5 && (result < 2)", "value": true}
{"kind": "float", "result": 0.96, "cond": "abs(-result) == result", "value": true}
{"kind": "float", "result": 0.96, "cond": "type(result) == 'float'", "value": true}
{"kind": "float", "result": "NaN", "cond": "isNaN(result)", "value": true}
{"kind": "float", "result": "NaN", "cond": "result >= 0.95", "value": false}
{"kind": "float", "result": "NaN", "cond": "result != result", "value": true}
{"kind": "float", "result": "NaN", "cond": "result == result", "value": false}
{"kind": "float", "result": "+Inf", "cond": "isInf(result)", "value": true}
{"kind": "float", "result": "+Inf", "cond": "result > 1000000", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major == '1'", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "asInt(result.major) >= 1", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "asInt(result.minor) > 20", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.minor > '20'", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.missing == nil", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.missing.foo == 1", "err": "cannot fetch foo from <nil>"}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major + 1 > 1", "err": "invalid operation: string + int"}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "int(result.minor) > 20", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result['major'] == '1'", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "'major' in result", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result?.missing?.foo == nil", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major", "err": "expected bool, but got string"}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major == 1", "value": false}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "asFloat(result.minor) == 21", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result[0] == 1", "err": "cannot use int to get an element from map[string]interface {}"}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "len(result) == 2", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major in ['1', '2']", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.minor matches '^2'", "value": true}
{"kind": "json", "result": {"major": "1", "minor": "21"}, "cond": "result.major + result.minor == '121'", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.ok && result.successPercent >= 0.90", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.ok == true", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "!result.ok", "value": false}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.successPercent * 100 >= 95", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "not result.ok", "value": false}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.successPercent > 0.9 and result.ok", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.ok || result.successPercent", "value": true}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.successPercent && true", "err": "expected bool, but got float64"}
{"kind": "json", "result": {"ok": true, "successPercent": 0.95}, "cond": "result.ok ? result.successPercent > 0.9 : false", "value": true}
{"kind": "json", "result": {"data": {"ok": false}}, "cond": "result.data.ok", "value": false}
{"kind": "json", "result": {"data": {"ok": false}}, "cond": "result.data.ok == false", "value": true}
{"kind": "json", "result": {"data": {"ok": false}}, "cond": "result.data.missing", "err": "expected bool, but got <nil>"}
{"kind": "json", "result": {"data": {"ok": false}}, "cond": "result.data.ok.x == 1", "err": "cannot fetch x from bool"}
{"kind": "json", "result": true, "cond": "result == true", "value": true}
{"kind": "json", "result": true, "cond": "result", "value": true}
{"kind": "json", "result": true, "cond": "!result", "value": false}
{"kind": "json", "result": true, "cond": "result == 'true'", "err": "invalid operation: == (mismatched types bool and string)"}
{"kind": "json", "result": true, "cond": "result && true", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result == 'It worked!'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result contains 'worked'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result startsWith 'It'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result matches '^It'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "len(result) == 10", "value": true}
{"kind": "json", "result": "It worked!", "cond": "upper(result) == 'IT WORKED!'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "asFloat(result) > 1", "err": "strconv.ParseFloat: parsing \"It worked!\": invalid syntax"}
{"kind": "json", "result": "It worked!", "cond": "result == 1", "err": "invalid operation: == (mismatched types string and int)"}
{"kind": "json", "result": "It worked!", "cond": "result endsWith '!'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result[0:2] == 'It'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result in ['It worked!']", "value": true}
{"kind": "json", "result": "It worked!", "cond": "result not contains 'fail'", "value": true}
{"kind": "json", "result": "It worked!", "cond": "trim(result) == result", "value": true}
{"kind": "json", "result": "It worked!", "cond": "lower(result) == 'it worked!'", "value": true}
{"kind": "json", "result": "1.1", "cond": "asFloat(result) == 1.1", "value": true}
{"kind": "json", "result": "1.1", "cond": "asInt(result) == 1", "err": "strconv.ParseInt: parsing \"1.1\": invalid syntax"}
{"kind": "json", "result": "1.1", "cond": "asFloat(result) == \"1.1\"", "err": "invalid operation: == (mismatched types float64 and string)"}
{"kind": "json", "result": "1.1", "cond": "asFloat(result) >= 1.1", "value": true}
{"kind": "json", "result": "1.1", "cond": "float(result) > 1", "value": true}
{"kind": "json", "result": "1", "cond": "asInt(result) == 1", "value": true}
{"kind": "json", "result": "1", "cond": "int(result) == 1", "value": true}
{"kind": "json", "result": "true", "cond": "result == 'true'", "value": true}
{"kind": "json", "result": "true", "cond": "result == \"true\"", "value": true}
{"kind": "json", "result": {"Status": 999}, "cond": "result.Status == 999", "value": true}
{"kind": "json", "result": {"Status": 999}, "cond": "result.Status == -1", "value": false}
{"kind": "json", "result": {"Status": 999}, "cond": "result.Status > 500 && result.Status < 1000", "value": true}
{"kind": "json", "result": {"Status": 999}, "cond": "result.Status in [999]", "value": true}
{"kind": "json", "result": {"successRate": 0.97}, "cond": "result.successRate >= 0.95", "value": true}
{"kind": "json", "result": {"successRate": 0.97}, "cond": "result.successRate", "err": "expected bool, but got float64"}
{"kind": "json", "result": [1, 2, 3], "cond": "all(result, {# > 0})", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "result[0] == 1", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "len(result) == 3", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "2 in result", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "sum(result) == 6", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "result[0] + result[1] == 3", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "result[5] == 1", "err": "reflect: slice index out of range"}
{"kind": "json", "result": [1, 2, 3], "cond": "filter(result, {# > 1}) == [2, 3]", "value": false}
{"kind": "json", "result": [1, 2, 3], "cond": "map(result, {# * 2})[2] == 6", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "findIndex(result, {# == 2}) == 1", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "find(result, {# > 5}) == nil", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "last(result) == 3", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "result[1:] == [2, 3]", "value": false}
{"kind": "json", "result": [1, 2, 3], "cond": "count(result, # > 1) == 2", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "none(result, # > 3)", "value": true}
{"kind": "json", "result": [1, 2, 3], "cond": "'a' in result", "value": false}
{"kind": "json", "result": [1, 2, 3], "cond": "result | all(# > 0)", "value": true}
{"kind": "json", "result": {"service_apdex": {"label": null, "values": {"values": [{"value": "9950"}, {"value": "9990"}]}}}, "cond": "all(result.service_apdex.values.values, {asFloat(.value) >= 9900})", "value": true}
{"kind": "json", "result": {"service_apdex": {"label": null, "values": {"values": [{"value": "9950"}, {"value": "9990"}]}}}, "cond": "result.service_apdex.label == nil", "value": true}
{"kind": "json", "result": {"service_apdex": {"label": null, "values": {"values": [{"value": "9950"}, {"value": "9990"}]}}}, "cond": "all(result.service_apdex.values.values, {.value >= 9900})", "err": "invalid operation: string >= int"}
{"kind": "json", "result": {"service_apdex": {"label": null, "values": {"values": [{"value": "9950"}, {"value": "9990"}]}}}, "cond": "any(result.service_apdex.values.values, {#.value == '9990'})", "value": true}
{"kind": "json", "result": [{"Values": [0.001, 0.002, 0.003, 0.004, 0.005]}], "cond": "len(result[0].Values) >= 5 and all(result[0].Values, {# <= 0.01})", "value": true}
{"kind": "json", "result": {"items": [{"status": "ok"}, {"status": "fail"}]}, "cond": "len(filter(result.items, {.status == 'ok'})) == 1", "value": true}
{"kind": "json", "result": {"items": [{"status": "ok"}, {"status": "fail"}]}, "cond": "all(result.items, {.status == 'ok'})", "value": false}
{"kind": "json", "result": {"items": [{"status": "ok"}, {"status": "fail"}]}, "cond": "one(result.items, {.status == 'fail'})", "value": true}
{"kind": "json", "result": {"items": [{"status": "ok"}, {"status": "fail"}]}, "cond": "result.items[1].status != 'ok'", "value": true}
{"kind": "json", "result": {"status": "healthy"}, "cond": "result.status in ['healthy', 'ok']", "value": true}
{"kind": "json", "result": {"status": "healthy"}, "cond": "result.status not in ['degraded']", "value": true}
{"kind": "json", "result": {"count": 5}, "cond": "result.count in [5, 6]", "value": true}
{"kind": "json", "result": {"count": 5}, "cond": "result.count == 5", "value": true}
{"kind": "json", "result": {"count": 5}, "cond": "result.count % 2 == 1", "err": "invalid operation: float64 % int"}
{"kind": "json", "result": {"count": 5}, "cond": "result.count / 2 == 2.5", "value": true}
{"kind": "json", "result": {"count": 5}, "cond": "result.count > 4 ?: false", "value": true}
{"kind": "json", "result": {"count": 5}, "cond": "results[0] >= 90.000000", "err": "unknown name results"}
{"kind": "json", "result": {"count": 5}, "cond": "result.count in ['5']", "err": "reflect.Value.MapIndex: value of type float64 is not assignable to type string"}
{"kind": "json", "result": null, "cond": "result == nil", "value": true}
{"kind": "json", "result": null, "cond": "isNil(result)", "value": true}
{"kind": "json", "result": null, "cond": "default(result, 0) < 10", "value": true}
{"kind": "json", "result": null, "cond": "default(result, 0) < 0.05", "value": true}
{"kind": "json", "result": null, "cond": "result > 1", "err": "invalid operation: > (mismatched types <nil> and int)"}
{"kind": "json", "result": null, "cond": "result.foo", "err": "type <nil> has no field foo"}
{"kind": "json", "result": null, "cond": "isNil(result) || result > 1", "err": "invalid operation: > (mismatched types <nil> and int)"}
{"kind": "json", "result": null, "cond": "default(result, 0) > 5", "value": false}
{"kind": "json", "result": null, "cond": "result ?? true", "value": true}
{"kind": "nil", "result": null, "cond": "result == nil", "value": true}
{"kind": "nil", "result": null, "cond": "isNil(result)", "value": true}
{"kind": "nil", "result": null, "cond": "default(result, 0) < 10", "value": true}
{"kind": "nil", "result": null, "cond": "result[0] > 1", "err": "type <nil>[int] is undefined"}
{"kind": "nil", "result": null, "cond": "len(result) == 0", "err": "invalid argument for len (type %!s(<nil>))"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "all(result, {#})", "err": "predicate should return boolean (got float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "filter(result, #)", "err": "predicate should return boolean (got float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[:1][0] == 0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[1:0] == nil", "value": false}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "len(result[-2:]) == 2", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "map(result, {# > 1}) == [false, true, true]", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result | filter(# > 1) | len() == 2", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "find(result, # > 1) == 1.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "findLast(result, # > 1) == 2.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "findLastIndex(result, # > 1) == 2", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[3]", "err": "reflect: slice index out of range"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[-4] > 0", "err": "reflect: slice index out of range"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[1.0] > 1", "err": "array elements can only be selected using an integer (got float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result['a'] > 1", "err": "array elements can only be selected using an integer (got string)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "any(result, {all(result, {# > 0})})", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "count(result, true) == 3", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "min(result[0], result[1]) == 0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "let s = sum(result); s == 4.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "let x = 1; let y = 2; x + y == 3", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "let result = 1; true", "err": "cannot redeclare result"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "len(map(result, #index)) == 3", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "filter(result, # > 1)[1] == 2.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] + result[1] == 2", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "one(result, # > 2)", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "none(result, # < 0)", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "reduce(result, # + #acc) > 0", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "sort(result)[0] == 0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result == [0.5, 1.5, 2.5]", "value": false}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result != nil", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] ?? 1 == 0.5", "err": "Operator (==) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "(result[0] ?? 1) == 0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "1 in result", "value": false}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "nil in result", "value": false}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "'x' in result", "err": "cannot use string as type float64 in array"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result in result", "err": "cannot use []float64 as type float64 in array"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] > 0 && result[1] > 0 && result[2] > 0", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "max(result) > 2", "err": "invalid argument for max (type []float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "median(result) == 1.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "isNaN(result[0]) == false", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] == 0.5 == true", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "-result[0] == -0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "+result[0] == 0.5", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] ** -1 == 2", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[2] ^ 2 == 6.25", "value": true}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0] < 1 < 2", "err": "invalid operation: < (mismatched types bool and int)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "abs(result)", "err": "invalid argument for abs (type []float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "int(result)", "err": "invalid argument for int (type []float64)"}
{"kind": "floats", "result": [0.5, 1.5, 2.5], "cond": "result[0:2:3]", "err": "unexpected token Operator(\":\")"}
{"kind": "float", "result": 3.0, "cond": "result == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(result) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(result) + 1 == 4", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(result) / 2 == 1.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(result) % 2 == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "result / 0 > 0", "value": true}
{"kind": "float", "result": 3.0, "cond": "-result == -3", "value": true}
{"kind": "float", "result": 3.0, "cond": "result in 1..5", "value": true}
{"kind": "float", "result": 3.0, "cond": "3 in 1..5", "value": true}
{"kind": "float", "result": 3.0, "cond": "result == 3.0", "value": true}
{"kind": "float", "result": 3.0, "cond": "1..3 == [1, 2, 3]", "value": false}
{"kind": "float", "result": 3.0, "cond": "len(1..3) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "result ?? 0 > 0", "err": "Operator (>) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."}
{"kind": "float", "result": 3.0, "cond": "result > 0 ? 'yes' : 'no'", "err": "expected bool, but got string"}
{"kind": "float", "result": 3.0, "cond": "(result > 0 ? 'yes' : 'no') == 'yes'", "value": true}
{"kind": "float", "result": 3.0, "cond": "result > 0 ? 1 : 'a'", "err": "expected bool, but got int"}
{"kind": "float", "result": 3.0, "cond": "1 ? true : false", "err": "non-bool expression (type int) used as condition"}
{"kind": "float", "result": 3.0, "cond": "result matches '3'", "err": "invalid operation: matches (mismatched types float64 and string)"}
{"kind": "float", "result": 3.0, "cond": "'3' matches '['", "err": "error parsing regexp: missing closing ]: `[`"}
{"kind": "float", "result": 3.0, "cond": "'abc' matches '^a'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'a' + 'b' == 'ab'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'a' * 2", "err": "invalid operation: * (mismatched types string and int)"}
{"kind": "float", "result": 3.0, "cond": "\"it's\" == 'it\\'s'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'a\\tb' == \"a\\tb\"", "value": true}
{"kind": "float", "result": 3.0, "cond": "'\\u0041' == 'A'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'\\x41' == 'A'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'\\101' == 'A'", "value": true}
{"kind": "float", "result": 3.0, "cond": "0x10 == 16", "value": true}
{"kind": "float", "result": 3.0, "cond": "1_000 == 1000", "value": true}
{"kind": "float", "result": 3.0, "cond": "1e3 == 1000", "value": true}
{"kind": "float", "result": 3.0, "cond": ".5 == 0.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "1. == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "0o17 == 15", "err": "invalid integer literal: strconv.ParseInt: parsing \"0o17\": invalid syntax"}
{"kind": "float", "result": 3.0, "cond": "0b11 == 3", "err": "invalid integer literal: strconv.ParseInt: parsing \"0b11\": invalid syntax"}
{"kind": "float", "result": 3.0, "cond": "9223372036854775807 > 0", "value": true}
{"kind": "float", "result": 3.0, "cond": "9223372036854775808 > 0", "err": "invalid integer literal: strconv.ParseInt: parsing \"9223372036854775808\": value out of range"}
{"kind": "float", "result": 3.0, "cond": "2 ** 3 ** 2 == 512", "value": true}
{"kind": "float", "result": 3.0, "cond": "-2 ** 2 == -4", "value": true}
{"kind": "float", "result": 3.0, "cond": "10 - 2 - 3 == 5", "value": true}
{"kind": "float", "result": 3.0, "cond": "10 / 4 == 2.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "7 % 3 == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "7 % 0 == 1", "err": "integer divide by zero"}
{"kind": "float", "result": 3.0, "cond": "result % 0 == 1", "err": "invalid operation: % (mismatched types float64 and int)"}
{"kind": "float", "result": 3.0, "cond": "asInt(result) % 0 == 1", "err": "runtime error: integer divide by zero"}
{"kind": "float", "result": 3.0, "cond": "true == 1", "err": "invalid operation: == (mismatched types bool and int)"}
{"kind": "float", "result": 3.0, "cond": "nil == nil", "value": true}
{"kind": "float", "result": 3.0, "cond": "nil == false", "value": false}
{"kind": "float", "result": 3.0, "cond": "'a' < 'b'", "value": true}
{"kind": "float", "result": 3.0, "cond": "'a' < 1", "err": "invalid operation: < (mismatched types string and int)"}
{"kind": "float", "result": 3.0, "cond": "true < false", "err": "invalid operation: < (mismatched types bool and bool)"}
{"kind": "float", "result": 3.0, "cond": "[1] == [1]", "value": true}
{"kind": "float", "result": 3.0, "cond": "{'a': 1} == {'a': 1}", "value": true}
{"kind": "float", "result": 3.0, "cond": "{'a': 1}.a == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "{a: 1}['a'] == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "{1: 'x'}['1'] == 'x'", "value": true}
{"kind": "float", "result": 3.0, "cond": "{(1): 'x'}", "err": "interface conversion: interface {} is int, not string"}
{"kind": "float", "result": 3.0, "cond": "[1, 'a'][1] == 'a'", "value": true}
{"kind": "float", "result": 3.0, "cond": "[][0]", "err": "reflect: slice index out of range"}
{"kind": "float", "result": 3.0, "cond": "[1,2,][1] == 2", "value": true}
{"kind": "float", "result": 3.0, "cond": "{'a': 1,}.a == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "not true", "value": false}
{"kind": "float", "result": 3.0, "cond": "not not true", "value": true}
{"kind": "float", "result": 3.0, "cond": "!!true", "value": true}
{"kind": "float", "result": 3.0, "cond": "!1", "err": "invalid operation: ! (mismatched type int)"}
{"kind": "float", "result": 3.0, "cond": "-'a'", "err": "invalid operation: - (mismatched type string)"}
{"kind": "float", "result": 3.0, "cond": "+'a'", "err": "invalid operation: + (mismatched type string)"}
{"kind": "float", "result": 3.0, "cond": "true && 1", "err": "invalid operation: && (mismatched types bool and int)"}
{"kind": "float", "result": 3.0, "cond": "1 && true", "err": "invalid operation: && (mismatched types int and bool)"}
{"kind": "float", "result": 3.0, "cond": "true || 1", "err": "invalid operation: || (mismatched types bool and int)"}
{"kind": "float", "result": 3.0, "cond": "false || 1", "err": "invalid operation: || (mismatched types bool and int)"}
{"kind": "float", "result": 3.0, "cond": "result > 1 and nil", "err": "invalid operation: and (mismatched types bool and <nil>)"}
{"kind": "float", "result": 3.0, "cond": "nil and true", "err": "invalid operation: and (mismatched types <nil> and bool)"}
{"kind": "float", "result": 3.0, "cond": "result.a?.b", "err": "type float64[string] is undefined"}
{"kind": "float", "result": 3.0, "cond": "result?.a", "err": "type float64[string] is undefined"}
{"kind": "float", "result": 3.0, "cond": "isInf(1 / 0)", "value": true}
{"kind": "float", "result": 3.0, "cond": "isNaN(0 / 0)", "value": true}
{"kind": "float", "result": 3.0, "cond": "isNaN(result ** 0.5)", "value": false}
{"kind": "float", "result": 3.0, "cond": "string(1) == '1'", "value": true}
{"kind": "float", "result": 3.0, "cond": "string(true) == 'true'", "value": true}
{"kind": "float", "result": 3.0, "cond": "string(nil) == '<nil>'", "value": true}
{"kind": "float", "result": 3.0, "cond": "string([1,2]) == '[1 2]'", "value": true}
{"kind": "float", "result": 3.0, "cond": "string(1e6) == '1e+06'", "value": true}
{"kind": "float", "result": 3.0, "cond": "type(1) == 'int'", "value": true}
{"kind": "float", "result": 3.0, "cond": "type(nil) == 'nil'", "value": true}
{"kind": "float", "result": 3.0, "cond": "type([1]) == 'array'", "value": true}
{"kind": "float", "result": 3.0, "cond": "type({}) == 'map'", "value": true}
{"kind": "float", "result": 3.0, "cond": "type('a') == 'string'", "value": true}
{"kind": "float", "result": 3.0, "cond": "abs(-3) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "abs(-3.5) == 3.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "ceil(1.2) == 2", "value": true}
{"kind": "float", "result": 3.0, "cond": "floor(-1.2) == -2", "value": true}
{"kind": "float", "result": 3.0, "cond": "round(2.5) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "round(-2.5) == -3", "value": true}
{"kind": "float", "result": 3.0, "cond": "int('42') == 42", "value": true}
{"kind": "float", "result": 3.0, "cond": "int('4.2') == 4", "err": "invalid operation: int(4.2)"}
{"kind": "float", "result": 3.0, "cond": "float('4.2') == 4.2", "value": true}
{"kind": "float", "result": 3.0, "cond": "float('x') == 1", "err": "invalid operation: float(x)"}
{"kind": "float", "result": 3.0, "cond": "int(3.9) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "int(-3.9) == -3", "value": true}
{"kind": "float", "result": 3.0, "cond": "trim('  a ') == 'a'", "value": true}
{"kind": "float", "result": 3.0, "cond": "trim('xxaxx', 'x') == 'a'", "value": true}
{"kind": "float", "result": 3.0, "cond": "trimPrefix('abc', 'a') == 'bc'", "value": true}
{"kind": "float", "result": 3.0, "cond": "trimSuffix('abc', 'c') == 'ab'", "value": true}
{"kind": "float", "result": 3.0, "cond": "split('a,b', ',')[1] == 'b'", "value": true}
{"kind": "float", "result": 3.0, "cond": "split('a,b,c', ',', 2)[1] == 'b,c'", "value": true}
{"kind": "float", "result": 3.0, "cond": "replace('aaa', 'a', 'b') == 'bbb'", "value": true}
{"kind": "float", "result": 3.0, "cond": "replace('aaa', 'a', 'b', 1) == 'baa'", "value": true}
{"kind": "float", "result": 3.0, "cond": "repeat('ab', 2) == 'abab'", "value": true}
{"kind": "float", "result": 3.0, "cond": "join(['a', 'b'], '-') == 'a-b'", "value": true}
{"kind": "float", "result": 3.0, "cond": "join(['a', 'b']) == 'ab'", "value": true}
{"kind": "float", "result": 3.0, "cond": "join([1, 2], '-')", "err": "interface conversion: interface {} is int, not string"}
{"kind": "float", "result": 3.0, "cond": "indexOf('abc', 'c') == 2", "value": true}
{"kind": "float", "result": 3.0, "cond": "lastIndexOf('abca', 'a') == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "hasPrefix('abc', 'ab')", "value": true}
{"kind": "float", "result": 3.0, "cond": "hasSuffix('abc', 'bc')", "value": true}
{"kind": "float", "result": 3.0, "cond": "upper(1)", "err": "cannot use int as argument (type string) to call upper "}
{"kind": "float", "result": 3.0, "cond": "lower(result)", "err": "cannot use float64 as argument (type string) to call lower "}
{"kind": "float", "result": 3.0, "cond": "len(1)", "err": "invalid argument for len (type int)"}
{"kind": "float", "result": 3.0, "cond": "len('héllo') == 6", "value": true}
{"kind": "float", "result": 3.0, "cond": "max(1, 2.5) == 2.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "min(3, 1, 2) == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "max('a')", "err": "invalid argument for max (type string)"}
{"kind": "float", "result": 3.0, "cond": "max()", "err": "not enough arguments to call max"}
{"kind": "float", "result": 3.0, "cond": "sum([1, 2]) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "sum([1, 2.5]) == 3.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "sum(1)", "err": "cannot sum int"}
{"kind": "float", "result": 3.0, "cond": "mean([1, 2]) == 1.5", "value": true}
{"kind": "float", "result": 3.0, "cond": "median([3, 1, 2]) == 2", "value": true}
{"kind": "float", "result": 3.0, "cond": "first([]) == nil", "value": true}
{"kind": "float", "result": 3.0, "cond": "last([1, 2]) == 2", "value": true}
{"kind": "float", "result": 3.0, "cond": "first(1)", "err": "cannot get first element from int"}
{"kind": "float", "result": 3.0, "cond": "keys({'a': 1}) == ['a']", "value": true}
{"kind": "float", "result": 3.0, "cond": "values({'a': 1}) == [1]", "value": true}
{"kind": "float", "result": 3.0, "cond": "keys(1)", "err": "cannot get keys from int"}
{"kind": "float", "result": 3.0, "cond": "duration('1h') > duration('30m')", "value": true}
{"kind": "float", "result": 3.0, "cond": "duration('1h') == duration('60m')", "value": true}
{"kind": "float", "result": 3.0, "cond": "duration('x') > 0", "err": "time: invalid duration \"x\""}
{"kind": "float", "result": 3.0, "cond": "duration('1h') * 2 == duration('2h')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14') < date('2023-08-15')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14 00:00:00') == date('2023-08-14')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14T00:00:00Z') == date('2023-08-14')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14', '2006-01-02') == date('2023-08-14')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('bad') == nil", "err": "invalid date bad"}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-15') - date('2023-08-14') == duration('24h')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14') + duration('1h') > date('2023-08-14')", "value": true}
{"kind": "float", "result": 3.0, "cond": "date('2023-08-14') - duration('1h') < date('2023-08-14')", "value": true}
{"kind": "float", "result": 3.0, "cond": "now() > date('2023-01-01')", "value": true}
{"kind": "float", "result": 3.0, "cond": "now() - now() < duration('1s')", "value": true}
{"kind": "float", "result": 3.0, "cond": "unknownFunc(1)", "err": "unknown name unknownFunc"}
{"kind": "float", "result": 3.0, "cond": "result()", "err": "float64 is not callable"}
{"kind": "float", "result": 3.0, "cond": "result.x()", "err": "type float64[string] is undefined"}
{"kind": "float", "result": 3.0, "cond": "asInt.x", "err": "type func(interface {}) int64[string] is undefined"}
{"kind": "float", "result": 3.0, "cond": "isNaN", "err": "expected bool, but got func(float64) bool"}
{"kind": "float", "result": 3.0, "cond": "default", "err": "expected bool, but got func(interface {}, interface {}) interface {}"}
{"kind": "float", "result": 3.0, "cond": "asInt(nil)", "err": "asInt() not supported on <nil> <nil>"}
{"kind": "float", "result": 3.0, "cond": "asFloat(nil)", "err": "asFloat() not supported on <nil> <nil>"}
{"kind": "float", "result": 3.0, "cond": "asInt(true)", "err": "asInt() not supported on bool true"}
{"kind": "float", "result": 3.0, "cond": "asInt('9223372036854775808')", "err": "strconv.ParseInt: parsing \"9223372036854775808\": value out of range"}
{"kind": "float", "result": 3.0, "cond": "asInt('-5') == -5", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt('+5') == 5", "value": true}
{"kind": "float", "result": 3.0, "cond": "asFloat('1e3') == 1000", "value": true}
{"kind": "float", "result": 3.0, "cond": "asFloat('inf') > 0", "value": true}
{"kind": "float", "result": 3.0, "cond": "asFloat('NaN') == 0", "value": false}
{"kind": "float", "result": 3.0, "cond": "asFloat(' 1') == 1", "err": "strconv.ParseFloat: parsing \" 1\": invalid syntax"}
{"kind": "float", "result": 3.0, "cond": "asInt(' 1') == 1", "err": "strconv.ParseInt: parsing \" 1\": invalid syntax"}
{"kind": "float", "result": 3.0, "cond": "asFloat(1) == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(1.9) == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "asInt(-1.9) == -1", "value": true}
{"kind": "float", "result": 3.0, "cond": "asFloat([1])", "err": "asFloat() not supported on []interface {} [1]"}
{"kind": "float", "result": 3.0, "cond": "default(nil, 1) == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "isNil(nil)", "value": false}
{"kind": "float", "result": 3.0, "cond": "isNil(1, 2)", "err": "too many arguments to call isNil"}
{"kind": "float", "result": 3.0, "cond": "isNaN('a')", "err": "cannot use string as argument (type float64) to call isNaN "}
{"kind": "float", "result": 3.0, "cond": "isNaN(nil)", "err": "interface conversion: interface {} is nil, not float64"}
{"kind": "float", "result": 3.0, "cond": "isInf(result)", "value": false}
{"kind": "float", "result": 3.0, "cond": "isNaN(1 + 2)", "value": false}
{"kind": "float", "result": 3.0, "cond": "result between", "err": "unexpected token Identifier(\"between\")"}
{"kind": "float", "result": 3.0, "cond": "result >> 1", "err": "unexpected token Operator(\">\")"}
{"kind": "float", "result": 3.0, "cond": "result >= = 1", "err": "unexpected token Operator(\"=\")"}
{"kind": "float", "result": 3.0, "cond": "result === 1", "err": "unexpected token Operator(\"=\")"}
{"kind": "float", "result": 3.0, "cond": "result <> 1", "err": "unexpected token Operator(\">\")"}
{"kind": "float", "result": 3.0, "cond": "result & 1", "err": "unexpected token Operator(\"&\")"}
{"kind": "float", "result": 3.0, "cond": "result | 1", "err": "unexpected token Number(\"1\")"}
{"kind": "float", "result": 3.0, "cond": "result || ", "err": "unexpected token EOF"}
{"kind": "float", "result": 3.0, "cond": "(", "err": "unexpected token EOF"}
{"kind": "float", "result": 3.0, "cond": ")", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 3.0, "cond": "[", "err": "unexpected token EOF"}
{"kind": "float", "result": 3.0, "cond": "]", "err": "unexpected token Bracket(\"]\")"}
{"kind": "float", "result": 3.0, "cond": "{", "err": "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token EOF)"}
{"kind": "float", "result": 3.0, "cond": "}", "err": "unexpected token Bracket(\"}\")"}
{"kind": "float", "result": 3.0, "cond": "'", "err": "literal not terminated"}
{"kind": "float", "result": 3.0, "cond": "a.b.c", "err": "unknown name a"}
{"kind": "float", "result": 3.0, "cond": "result.", "err": "unexpected end of expression"}
{"kind": "float", "result": 3.0, "cond": "result..", "err": "unexpected token EOF"}
{"kind": "float", "result": 3.0, "cond": "result...", "err": "cannot use pointer accessor outside closure"}
{"kind": "float", "result": 3.0, "cond": "result ? 1", "err": "unexpected token EOF"}
{"kind": "float", "result": 3.0, "cond": "result > 0 ? : 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "let = 1; true", "err": "unexpected token Operator(\"=\")"}
{"kind": "float", "result": 3.0, "cond": "let x 1; true", "err": "unexpected token Number(\"1\")"}
{"kind": "float", "result": 3.0, "cond": "let x = 1 true", "err": "unexpected token Identifier(\"true\")"}
{"kind": "float", "result": 3.0, "cond": "all(result)", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 3.0, "cond": "all(result, )", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 3.0, "cond": "all()", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 3.0, "cond": "filter()", "err": "unexpected token Bracket(\")\")"}
{"kind": "float", "result": 3.0, "cond": "map([1,2], {#})[0] == 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "map([1], {#index})", "err": "expected bool, but got []interface {}"}
{"kind": "float", "result": 3.0, "cond": "all([1], {#index == 0})", "err": "unknown pointer #index"}
{"kind": "float", "result": 3.0, "cond": "all([1], {#acc})", "err": "unknown pointer #acc"}
{"kind": "float", "result": 3.0, "cond": "all([[1,2]], {all(#, {# > 0})})", "value": true}
{"kind": "float", "result": 3.0, "cond": "all([[1,2]], {len(#) == 2})", "value": true}
{"kind": "float", "result": 3.0, "cond": "{#}", "err": "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token Operator(\"#\"))"}
{"kind": "float", "result": 3.0, "cond": "#index", "err": "cannot use pointer accessor outside closure"}
{"kind": "float", "result": 3.0, "cond": ".foo", "err": "cannot use pointer accessor outside closure"}
{"kind": "float", "result": 3.0, "cond": "$env", "err": "expected bool, but got map[string]interface {}"}
{"kind": "float", "result": 3.0, "cond": "$env.result == 3", "value": true}
{"kind": "float", "result": 3.0, "cond": "result.0", "err": "unexpected token Number(\".0\")"}
{"kind": "float", "result": 3.0, "cond": "result[0]", "err": "type float64[int] is undefined"}
{"kind": "float", "result": 3.0, "cond": "result[]", "err": "unexpected token Bracket(\"]\")"}
{"kind": "float", "result": 3.0, "cond": "result[:]", "err": "cannot slice float64"}
{"kind": "float", "result": 3.0, "cond": "result[::]", "err": "unexpected token Operator(\":\")"}
{"kind": "float", "result": 3.0, "cond": "`abc`", "err": "unrecognized character: U+0060 '`'"}
{"kind": "float", "result": 3.0, "cond": "'a' in ['a']", "value": true}
{"kind": "float", "result": 3.0, "cond": "'a' in {'a': 1}", "value": true}
{"kind": "float", "result": 3.0, "cond": "1 in {'a': 1}", "err": "cannot use int as type string in map key"}
{"kind": "float", "result": 3.0, "cond": "nil in {'a': 1}", "value": false}
{"kind": "float", "result": 3.0, "cond": "nil in ['']", "value": true}
{"kind": "float", "result": 3.0, "cond": "1 in 'abc'", "err": "invalid operation: in (mismatched types int and string)"}
{"kind": "float", "result": 3.0, "cond": "'a' in 'abc'", "err": "invalid operation: in (mismatched types string and string)"}
{"kind": "float", "result": 3.0, "cond": "'a' contains 'a'", "value": true}
{"kind": "float", "result": 3.0, "cond": "1 contains 'a'", "err": "invalid operation: contains (mismatched types int and string)"}
{"kind": "float", "result": 3.0, "cond": "'a' startsWith 1", "err": "invalid operation: startsWith (mismatched types string and int)"}
{"kind": "float", "result": 3.0, "cond": "[1] + [2]", "err": "invalid operation: + (mismatched types []interface {} and []interface {})"}
{"kind": "float", "result": 3.0, "cond": "{} == {}", "value": true}
{"kind": "float", "result": 3.0, "cond": "[] == []", "value": true}
{"kind": "float", "result": 3.0, "cond": "[1.0] == [1]", "value": false}
{"kind": "float", "result": 3.0, "cond": "1 == 1.0", "value": true}
{"kind": "float", "result": 3.0, "cond": "'1' == 1", "err": "invalid operation: == (mismatched types string and int)"}
{"kind": "float", "result": 3.0, "cond": "result // comment", "err": "expected bool, but got float64"}
{"kind": "float", "result": 3.0, "cond": "result /* c */ > 1", "value": true}
{"kind": "float", "result": 3.0, "cond": "result /* unclosed", "err": "unclosed comment"}
{"kind": "float", "result": 3.0, "cond": "# comment", "err": "cannot use pointer accessor outside closure"}
{"kind": "float", "result": 3.0, "cond": "result > 1 // x\n && true", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[0].c == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[1].c == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[1].c > 0", "err": "invalid operation: <nil> > int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[2].c", "err": "reflect: slice index out of range"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result?.a?.b[0]?.c == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.x?.y == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.x?.y.z == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.x.y", "err": "cannot fetch y from <nil>"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.arr[0]", "err": "reflect: slice index out of range"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "len(result.arr) == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "all(result.arr, # > 0)", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n ?? 5", "err": "expected bool, but got float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "(result.missing ?? 5) == 5", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.t and result.n == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s + result.n", "err": "invalid operation: string + float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s > result.n", "err": "invalid operation: string > float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s == result.n", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n == false", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.t == 1", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a == result.a", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b == result.a.b", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.arr == []", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a in result", "err": "reflect.Value.MapIndex: value of type map[string]interface {} is not assignable to type string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "'a' in result", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "'z' in result", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s in result.a.b", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n in result.a.b", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[0] in result.a.b", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.missing()", "err": "reflect: call of reflect.Value.Call on zero Value"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s()", "err": "reflect: call of reflect.Value.Call on string Value"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[0].c()", "err": "reflect: call of reflect.Value.Call on float64 Value"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "len(result.a) == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "len(result.n)", "err": "invalid argument for len (type float64)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "len(result.missing)", "err": "invalid argument for len (type <nil>)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "all(result.s, # > 0)", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "all(result.n, true)", "err": "reflect: call of reflect.Value.Len on float64 Value"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "all(result.missing, true)", "err": "reflect: call of reflect.Value.Len on zero Value"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "all(result.a, true)", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "filter(result.a.b, .c != nil)[0].c == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "filter(result.a.b, #.c > 0)", "err": "invalid operation: <nil> > int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "map(result.a.b, .c)[0] == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a.b[0:1][0].c == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s[0]", "err": "expected bool, but got uint8"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s[0] == 120", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s[0:1] == 'x'", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n[0]", "err": "cannot fetch 0 from float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a[0]", "err": "reflect.Value.MapIndex: value of type int is not assignable to type string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a['b'][0]['c'] == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a[result.s] == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.a[nil] == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n.x", "err": "cannot fetch x from float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "-result.s", "err": "invalid operation: - string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "-result.n == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "!result.t", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "!result.n", "err": "interface conversion: interface {} is float64, not bool"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.t ? 1 : 2", "err": "expected bool, but got int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n ? 1 : 2", "err": "interface conversion: interface {} is float64, not bool"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "not result.s", "err": "interface conversion: interface {} is string, not bool"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n + 1 == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n * 2 == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n / 1 == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n ** 2 == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n % 1", "err": "invalid operation: float64 % int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n .. 2", "err": "expected bool, but got []int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s .. 2", "err": "invalid operation: int(string)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asInt(result.n) == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asInt(result.t)", "err": "asInt() not supported on bool true"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asInt(result.a)", "err": "asInt() not supported on map[string]interface {} map[b:[map[c:1] map[c:<nil>]]]"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asInt(result.arr)", "err": "asInt() not supported on []interface {} []"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asFloat(result.missing)", "err": "asFloat() not supported on <nil> <nil>"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "asInt(result.s)", "err": "strconv.ParseInt: parsing \"x\": invalid syntax"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "isNaN(result.n)", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "isNaN(result.s)", "err": "interface conversion: interface {} is string, not float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "isInf(result.missing)", "err": "interface conversion: interface {} is nil, not float64"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "isNil(result.missing)", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "default(result.missing, 1) == 1", "value": false}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "upper(result.s) == 'X'", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "upper(result.n)", "err": "interface conversion: interface {} is float64, not string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "len(result.s) == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s matches 'x'", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.n matches 'x'", "err": "interface conversion: interface {} is float64, not string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "result.s contains result.n", "err": "interface conversion: interface {} is float64, not string"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "abs(result.n) == 0", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "abs(result.s)", "err": "invalid argument for abs (type string)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "int(result.s)", "err": "invalid operation: int(x)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "float(result.t)", "err": "invalid operation: float(bool)"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "max(result.n, 1) == 1", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "max(result.s, 1)", "err": "invalid operation: string < int"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "sum(result.a.b)", "err": "cannot sum map"}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "first(result.arr) == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "last(result.a.b).c == nil", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "keys(result.a) == ['b']", "value": true}
{"kind": "json", "result": {"a": {"b": [{"c": 1}, {"c": null}]}, "s": "x", "n": 0, "t": true, "arr": []}, "cond": "string(result.a)", "err": "expected bool, but got string"}
{"kind": "json", "result": 1.5, "cond": "result > 1", "value": true}
{"kind": "json", "result": 1.5, "cond": "result == 1.5", "value": true}
{"kind": "json", "result": 1.5, "cond": "result in [1.5]", "value": true}
{"kind": "json", "result": 1.5, "cond": "result > 1 and result < 2", "value": true}
{"kind": "json", "result": 1.5, "cond": "asInt(result) == 1", "value": true}
{"kind": "json", "result": 1.5, "cond": "isNaN(result)", "value": false}
{"kind": "json", "result": 1.5, "cond": "result.x", "err": "type float64[string] is undefined"}
{"kind": "json", "result": 1.5, "cond": "result[0]", "err": "type float64[int] is undefined"}
{"kind": "json", "result": [], "cond": "len(result) == 0", "value": true}
{"kind": "json", "result": [], "cond": "result[0]", "err": "reflect: slice index out of range"}
{"kind": "json", "result": [], "cond": "all(result, false)", "value": true}
{"kind": "json", "result": [], "cond": "result == []", "value": true}
{"kind": "json", "result": [], "cond": "isNil(result)", "value": false}
{"kind": "json", "result": [], "cond": "default(result, 1) == 1", "value": false}
{"kind": "json", "result": {}, "cond": "len(result) == 0", "value": true}
{"kind": "json", "result": {}, "cond": "result.x == nil", "value": true}
{"kind": "json", "result": {}, "cond": "result == {}", "value": true}
{"kind": "json", "result": {}, "cond": "isNil(result)", "value": false}
{"kind": "json", "result": "NaN", "cond": "asFloat(result) != asFloat(result)", "value": true}
{"kind": "json", "result": "NaN", "cond": "isNaN(asFloat(result))", "value": true}
{"kind": "json", "result": null, "cond": "result ?? 1 == 1", "err": "Operator (==) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."}
{"kind": "json", "result": null, "cond": "(result ?? 1) == 1", "value": true}
{"kind": "json", "result": null, "cond": "result?.x == nil", "err": "type <nil> has no field x"}
{"kind": "json", "result": null, "cond": "len(result)", "err": "invalid argument for len (type %!s(<nil>))"}
{"kind": "json", "result": null, "cond": "all(result, true)", "err": "builtin all takes only array (got <nil>)"}
{"kind": "json", "result": null, "cond": "result[0]", "err": "type <nil>[int] is undefined"}
{"kind": "json", "result": null, "cond": "result in [nil]", "value": true}
{"kind": "json", "result": null, "cond": "nil in result", "err": "invalid operation: in (mismatched types <nil> and <nil>)"}
{"kind": "json", "result": null, "cond": "default(1, 2) == 2", "value": true}
{"kind": "json", "result": null, "cond": "result == false", "value": false}
{"kind": "json", "result": null, "cond": "!result", "err": "invalid operation: ! (mismatched type <nil>)"}
{"kind": "json", "result": null, "cond": "-result", "err": "invalid operation: - (mismatched type <nil>)"}
{"kind": "json", "result": null, "cond": "result + 1", "err": "invalid operation: + (mismatched types <nil> and int)"}
{"kind": "json", "result": null, "cond": "result && true", "err": "invalid operation: && (mismatched types <nil> and bool)"}
{"kind": "json", "result": null, "cond": "true && result", "err": "invalid operation: && (mismatched types bool and <nil>)"}
{"kind": "nil", "result": null, "cond": "result?.x", "err": "type <nil> has no field x"}
{"kind": "nil", "result": null, "cond": "result ?? 2", "err": "expected bool, but got int"}
{"kind": "nil", "result": null, "cond": "string(result) == '<nil>'", "value": true}
{"kind": "nil", "result": null, "cond": "type(result) == 'nil'", "value": true}
{"kind": "nil", "result": null, "cond": "asInt(result)", "err": "asInt() not supported on <nil> <nil>"}
"##;

fn number(v: &serde_json::Value) -> f64 {
    match v {
        serde_json::Value::String(s) => s.parse().expect("a float"),
        other => other.as_f64().expect("a number"),
    }
}

fn result_of(kind: &str, raw: &serde_json::Value) -> Value {
    match kind {
        "float" => Value::Float(number(raw)),
        "floats" => Value::floats(raw.as_array().expect("an array").iter().map(number)),
        "json" => Value::from_json(raw),
        "nil" => Value::Nil,
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn condition_corpus_matches_go_expr() {
    let mut failures = Vec::new();
    let mut count = 0;
    for line in CORPUS.lines().filter(|l| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).expect("a JSON case");
        let kind = case["kind"].as_str().expect("kind");
        let cond = case["cond"].as_str().expect("cond");
        let result = result_of(kind, &case["result"]);
        let expected = match case.get("err") {
            Some(err) => Err(err.as_str().expect("err").to_string()),
            None => Ok(case["value"].as_bool().expect("value")),
        };
        let got = eval_condition(&result, cond);
        if got != expected {
            failures.push(format!(
                "{kind} {} `{cond}`: got {got:?}, want {expected:?}",
                case["result"]
            ));
        }
        count += 1;
    }
    assert!(count >= 200, "the corpus has {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `rangeQuery.start`/`end` expressions (Argo's `EvalTime`), outcomes from expr v1.15.5.
#[test]
fn time_expressions_match_go_expr() {
    use super::eval_time;
    let now: chrono::DateTime<chrono::Utc> = "2024-05-01T10:00:00Z".parse().unwrap();
    let ok = |expr: &str, want: &str| {
        assert_eq!(
            eval_time(expr, now).map(|t| t.to_rfc3339()),
            Ok(want
                .parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .to_rfc3339()),
            "{expr}"
        )
    };
    let err = |expr: &str, want: &str| assert_eq!(eval_time(expr, now), Err(want.into()), "{expr}");
    ok(
        r#"date("2023-08-14 00:00:00", "2006-01-02 15:04:05", "UTC") - duration("1h")"#,
        "2023-08-13T23:00:00Z",
    );
    ok(
        "date('2024-01-02T03:04:05Z') + duration('90m')",
        "2024-01-02T04:34:05Z",
    );
    ok(
        "date('2024-01-02') - duration('1h30m15s')",
        "2024-01-01T22:29:45Z",
    );
    ok(
        "isNaN(1) ? date('2024-01-01') : date('2024-01-02')",
        "2024-01-02T00:00:00Z",
    );
    ok(r#"now() - duration("1h")"#, "2024-05-01T09:00:00Z");
    ok("now()", "2024-05-01T10:00:00Z");
    err("hello", "unknown name hello");
    err("now() -- ?", "unexpected token Operator(\"?\")");
    err("result", "unknown name result");
    err("1", "expected time.Time, but got int");
    err("", "unexpected token EOF");
    err("date('x')", "invalid date x");
    err("asInt(1)", "unknown name asInt");
}

/// Argo's `EvaluateResult` truth table (utils/evaluate tests).
#[test]
fn evaluate_result_truth_table() {
    use super::evaluate_result;
    use crate::crd::AnalysisPhase::*;
    let t = Value::Bool(true);
    assert_eq!(evaluate_result(&t, "true", "false"), Ok(Successful));
    assert_eq!(evaluate_result(&t, "true", "true"), Ok(Failed));
    assert_eq!(evaluate_result(&t, "false", "false"), Ok(Inconclusive));
    assert_eq!(evaluate_result(&t, "", "false"), Ok(Successful));
    assert_eq!(evaluate_result(&t, "", "true"), Ok(Failed));
    assert_eq!(evaluate_result(&t, "false", ""), Ok(Failed));
    assert_eq!(evaluate_result(&t, "true", ""), Ok(Successful));
    assert_eq!(evaluate_result(&t, "", ""), Ok(Successful));
    assert_eq!(
        evaluate_result(&t, "a == true", "true"),
        Err("unknown name a".into())
    );
    assert_eq!(
        evaluate_result(&t, "true", "a == true"),
        Err("unknown name a".into())
    );
    // An error in the success condition stops before the failure condition.
    assert_eq!(
        evaluate_result(&t, "1", "a"),
        Err("expected bool, but got int".into())
    );
}
