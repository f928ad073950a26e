// Constraint specs from HTTP request bodies: OpenAI's response_format, llama.cpp's grammar /
// json_schema fields, vLLM's structured_outputs and its older guided_* fields. The server calls
// this before queueing a request; errors are Error(kInvalidArgument) naming the field (-> 400).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>

#include "constrain/constraint.h"

namespace wick::constrain {

// nullopt when the request asks for no constraint (no field, or response_format type "text").
// More than one constraint in one request is an error naming both fields.
// The ordered form keeps a schema's property order (generated objects follow it).
std::optional<Spec> spec_from_request(const nlohmann::ordered_json& body);
std::optional<Spec> spec_from_request(const nlohmann::json& body);

}  // namespace wick::constrain
