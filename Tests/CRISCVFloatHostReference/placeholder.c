#include "CRISCVFloatHostReference.h"
