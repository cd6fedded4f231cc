#!KAMAILIO
# Main registrar for integration tests (Kamailio 5.6): in-memory location table, digest auth with
# fixed per-user passwords, Path support, relay of INVITE/MESSAGE to registered contacts with Record-Route.
# Double-brace placeholders are filled by test/support/kamailio.ts.

debug={{DEBUG_LEVEL}}
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=2
auto_aliases=no
listen=udp:{{HOST}}:{{PORT}}
listen=tcp:{{HOST}}:{{PORT}}
alias="{{DOMAIN}}"
tcp_connection_lifetime=3605
mpath="{{MODULES_DIR}}"

loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"

modparam("ctl", "binrpc", "unix:{{RUN_DIR}}/kamailio_ctl")
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 1)
modparam("registrar", "max_expires", {{MAX_EXPIRES}})
modparam("registrar", "min_expires", 0)
# Path (RFC 3327) from the mid-registrar's path insertion: stored with the binding, echoed in the
# 200 OK (the relay carries Supported: path), and used as the Route set by lookup.
modparam("registrar", "use_path", 1)
modparam("registrar", "path_mode", 2)
modparam("rr", "append_fromtag", 1)
modparam("htable", "htable", "passwd=>size=6;")

# Fixed passwords, one per test user.
event_route[htable:mod-init] {
{{PASSWORD_LINES}}
}

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check("17895", "7")) {
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			t_relay();
			exit;
		}
		if (is_method("ACK") && t_check_trans()) {
			t_relay();
			exit;
		}
		sl_send_reply("404", "Not here");
		exit;
	}
	t_check_trans();
	if (is_method("REGISTER")) {
		route(REGISTRAR);
		exit;
	}
	if (is_method("OPTIONS") && $rU == $null) {
		sl_send_reply("200", "OK");
		exit;
	}
	if (is_method("INVITE|MESSAGE")) {
		route(LOCATION);
		exit;
	}
	sl_send_reply("405", "Method Not Allowed");
}

route[REGISTRAR] {
	# De-REGISTERs and refreshes of the mid-registrar come from trusted addresses without credentials.
	if (!({{TRUSTED_CONDITION}})) {
		if (!pv_auth_check("$fd", "$sht(passwd=>$fU)", "0", "1")) {
			auth_challenge("$fd", "0");
			exit;
		}
		consume_credentials();
	}
	if (!save("location")) {
		sl_reply_error();
	}
}

route[LOCATION] {
	if (!lookup("location")) {
		t_newtran();
		t_reply("404", "Not Found");
		exit;
	}
	record_route();
	if (!t_relay()) {
		sl_reply_error();
	}
}
