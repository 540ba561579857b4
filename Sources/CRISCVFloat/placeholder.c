#include "CRISCVFloat.h"
