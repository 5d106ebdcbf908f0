// What an error's kind (util/result.h) means to the outside: the HTTP status an API server
// answers it with, as moby's api/server/httpstatus maps errdefs, and a name for logs and tests.
// Here in util so that a server module can use it without the CLI.
#pragma once

#include "util/result.h"

namespace strata {

// not found 404, invalid argument 400, conflict and already exists 409, unauthenticated 401,
// denied 403, unavailable 503; unknown, corrupt (data loss) and cancelled 500, as moby.
int HttpStatusFor(ErrorCode code);

// "not found", "invalid argument", ...
const char* ErrorCodeName(ErrorCode code);

}  // namespace strata
