# The tutorials' basic programs: name lookups, the QOTD, daytime and HTTP clients, the echo
# servers and clients (blocking, asyncio-style, threaded, select, non-blocking, Unix, IPv6,
# UDP), socket options and connect timeouts.
foreach(example get_ip name_lookups qotd_client daytime_client head_request get_request
                echo_server echo_client async_echo_server threaded_server_client select_server
                nonblocking_client socket_options timeouts unix_socket ipv6_echo udp_echo)
  sockit_example(${example})
endforeach()
