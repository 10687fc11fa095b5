// Package siptest groups the test helpers that run real SIP peers on
// loopback for the tests of this repository: kamailiotest (a Kamailio
// registrar and proxy), baresiptest (a baresip user agent), sipptest (SIPp
// scenarios), testca (a throwaway certificate authority) and proctest (the
// process handling they share). They are ordinary packages rather than
// internal ones so that the gateway's end-to-end tests in firmware/ can use
// them as well as the SIP packages' own tests; nothing outside tests
// imports them.
package siptest
