package line

// Feature codes, dialed from the phone (North American vertical service
// codes where one exists, else the codes SPA-family adapters use). Codes
// marked "+ number" take the number that follows, ended by the digit map
// or #. A code that changes a feature plays the confirmation tone, then
// dial tone again.
const (
	codeForwardAlwaysOn   = "*72" // + number
	codeForwardAlwaysOff  = "*73"
	codeForwardBusyOn     = "*90" // + number
	codeForwardBusyOff    = "*91"
	codeForwardNoAnsOn    = "*92" // + number
	codeForwardNoAnsOff   = "*93"
	codeDNDOn             = "*78"
	codeDNDOff            = "*79"
	codeAnonRejectOn      = "*77"
	codeAnonRejectOff     = "*87"
	codeCallWaitingOn     = "*56"
	codeCallWaitingOff    = "*57"
	codeCancelCallWaiting = "*70" // call waiting off for the next call only, then dial tone
	codeRedial            = "*66" // the last number dialed
	codeIntercom          = "*80" // + extension: ring that port with the intercom ring
	codePage              = "*81" // ring every other port; who answers hears the caller
	codeBlindTransfer     = "*98" // after a flash, + number: transfer the held call
)

// feature is what a code does.
type feature struct {
	code string
	// arg tells that a number follows.
	arg bool
	// set changes the features; nil for codes that do something else.
	set func(f *Features, arg string)
}

var featureTable = []feature{
	{codeForwardAlwaysOn, true, func(f *Features, a string) { f.ForwardAlways = a }},
	{codeForwardAlwaysOff, false, func(f *Features, _ string) { f.ForwardAlways = "" }},
	{codeForwardBusyOn, true, func(f *Features, a string) { f.ForwardBusy = a }},
	{codeForwardBusyOff, false, func(f *Features, _ string) { f.ForwardBusy = "" }},
	{codeForwardNoAnsOn, true, func(f *Features, a string) { f.ForwardNoAnswer = a }},
	{codeForwardNoAnsOff, false, func(f *Features, _ string) { f.ForwardNoAnswer = "" }},
	{codeDNDOn, false, func(f *Features, _ string) { f.DND = true }},
	{codeDNDOff, false, func(f *Features, _ string) { f.DND = false }},
	{codeAnonRejectOn, false, func(f *Features, _ string) { f.AnonymousReject = true }},
	{codeAnonRejectOff, false, func(f *Features, _ string) { f.AnonymousReject = false }},
	{codeCallWaitingOn, false, func(f *Features, _ string) { f.CallWaiting = true }},
	{codeCallWaitingOff, false, func(f *Features, _ string) { f.CallWaiting = false }},
	{codeCancelCallWaiting, false, nil},
	{codeRedial, false, nil},
	{codeIntercom, true, nil},
	{codePage, false, nil},
	{codeBlindTransfer, true, nil},
}

func lookupFeature(code string) *feature {
	for i := range featureTable {
		if featureTable[i].code == code {
			return &featureTable[i]
		}
	}
	return nil
}
