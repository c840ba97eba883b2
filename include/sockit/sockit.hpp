// Everything of the blocking layer in one include.
#pragma once

#include "sockit/endpoint.hpp"
#include "sockit/error.hpp"
#include "sockit/fd.hpp"
#include "sockit/options.hpp"
#include "sockit/resolver.hpp"
#include "sockit/select.hpp"
#include "sockit/socket.hpp"
