// Umbrella header for libward.
#pragma once

#include "ward/client.h"
#include "ward/event_table.h"
#include "ward/events.h"
#include "ward/message.h"
#include "ward/process.h"
#include "ward/status.h"
