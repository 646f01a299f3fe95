/*
 * JSON source messages (SPEC §9): a payload starting with '{' is an object
 * whose members are the source's fields by name, as the original tool's
 * example producer wrote them.
 */
#ifndef KA_JSON_DECODE_H
#define KA_JSON_DECODE_H

#include "agent.h"
#include "ka.h"

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the JSON object in buf[0..len) (not NUL-terminated; nothing past
 * len is read) into src's slices of the agent's row,
 * row->vals[src->first_field .. + src->nfields) and
 * row->arrays[src->first_array .. + src->narrays), like a generated
 * decoder: every number (integer or real) lands as the nearest double, a
 * member that is null or missing gives NaN (an empty array for an array
 * field), other members are ignored (the last of members with one name
 * counts). An array field's member must be a JSON array of numbers and
 * nulls (null elements give NaN) of at most KA_ROW_MAX_ARRAY elements.
 * When src has a time_field and event_ms is not NULL, that member must be
 * a number of Unix seconds and *event_ms gets it in milliseconds (floor).
 * The whole text must be JSON: strings of valid UTF-8 without NUL, numbers
 * within double range anywhere, values nested at most 2048 deep.
 *
 * Returns KA_OK; KA_ERR_TRUNCATED when the text is cut short (it is the
 * start of a valid text, as "{\"a\": nul" is); KA_ERR_OVERFLOW for a
 * number beyond double range; KA_ERR_TIME for a time beyond int64
 * milliseconds, once the rest is known to be valid;
 * KA_ERR_INVALID for text that is not one JSON object, a non-numeric value
 * (string, boolean, array, object) for a scalar field, anything but an
 * array of numbers and nulls for an array field, a longer array, or a
 * time that is missing, null or not a number; KA_ERR_NOMEM. On error the
 * slices hold unspecified values. Reads the text in one pass, with no
 * allocation but one small block per call (for the source's field names)
 * and the growth of array buffers.
 */
ka_err_t ka_json_decode_row(const ka_agent_source_t *src, const uint8_t *buf,
                            size_t len, ka_row_t *row, int64_t *event_ms);

#endif
