#!/usr/bin/env escript
%% An SSH server on Erlang/OTP's ssh application (Debian's erlang-ssh), for sshtrace's interop
%% tests. It follows the contract of every server in test/servers/ (see
%% test/helpers/independent_servers.ts): listens on 127.0.0.1, a free port, prints
%% `LISTENING <port>` once ready; reads INTEROP_HOST_KEYS (':'-separated OpenSSH private key
%% files), INTEROP_PASSWORD, INTEROP_AUTHORIZED_KEY (authorized_keys lines) and INTEROP_WORK_DIR
%% (an empty directory for OTP's system_dir and user_dir) from the environment; runs the commands
%% echo WORDS, whoami, pty, bytes N [stderr] (byte i is i % 251), check N (stdin is N bytes of
%% that pattern: prints `ok N`) and exit N, by exec or from a prompt shell on a pty. It exits when
%% its stdin closes (the test process is gone).
%%
%% The module is also the session channel (ssh_server_channel behaviour, option ssh_cli), so
%% exec and shell requests reach the callbacks below.
-module(erlang_server).
-behaviour(ssh_server_channel).
-export([main/1, init/1, handle_msg/2, handle_ssh_msg/2, terminate/2]).
%% Compiled (not interpreted), so that ssh can call the module's callbacks.
-mode(compile).

%% check: none, or {Expected, BytesSoFar, ok | {mismatch, Offset}} while `check N` reads stdin.
-record(st, {cm, id, pty = none, line = <<>>, check = none}).

main(_) ->
    %% stdout carries only the LISTENING line; OTP's reports go to stderr.
    ok = logger:remove_handler(default),
    ok = logger:add_handler(default, logger_std_h, #{config => #{type => standard_error}}),
    {ok, _} = application:ensure_all_started(ssh),
    Work = os:getenv("INTEROP_WORK_DIR"),
    System = filename:join(Work, "system"),
    User = filename:join(Work, "user"),
    ok = filelib:ensure_path(System),
    ok = filelib:ensure_path(User),
    %% OTP finds host keys in system_dir by OpenSSH's file names (ssh_host_ed25519_key, ...).
    lists:foreach(
      fun(Path) ->
              {ok, Pub} = file:read_file(Path ++ ".pub"),
              [Type | _] = binary:split(Pub, <<" ">>),
              Name = maps:get(Type, #{<<"ssh-ed25519">> => "ssh_host_ed25519_key",
                                      <<"ecdsa-sha2-nistp256">> => "ssh_host_ecdsa_key",
                                      <<"ssh-rsa">> => "ssh_host_rsa_key"}),
              {ok, _} = file:copy(Path, filename:join(System, Name)),
              {ok, _} = file:copy(Path ++ ".pub", filename:join(System, Name ++ ".pub"))
      end, string:split(os:getenv("INTEROP_HOST_KEYS"), ":", all)),
    {ok, _} = file:copy(os:getenv("INTEROP_AUTHORIZED_KEY"),
                        filename:join(User, "authorized_keys")),
    Password = os:getenv("INTEROP_PASSWORD"),
    %% Which peer logged in with a password (for `whoami`); the others used their key.
    ets:new(password_peers, [named_table, public, set]),
    PwdFun = fun(_User, Given, Peer, _State) ->
                     Ok = Given =:= Password,
                     Ok andalso ets:insert(password_peers, {Peer, true}),
                     Ok
             end,
    {ok, Daemon} = ssh:daemon({127, 0, 0, 1}, 0,
                              [{system_dir, System},
                               {user_dir, User},
                               {pwdfun, PwdFun},
                               {auth_methods, "publickey,password"},
                               {ssh_cli, {?MODULE, []}},
                               {subsystems, []},
                               {parallel_login, true}]),
    {ok, Info} = ssh:daemon_info(Daemon),
    io:format("LISTENING ~b~n", [proplists:get_value(port, Info)]),
    wait_for_eof().

wait_for_eof() ->
    case io:get_line(standard_io, '') of
        eof -> halt(0);
        {error, _} -> halt(0);
        _ -> wait_for_eof()
    end.

%% --- the session channel ---------------------------------------------------------------------

init(_) -> {ok, #st{}}.

handle_msg({ssh_channel_up, Id, CM}, St) -> {ok, St#st{cm = CM, id = Id}};
handle_msg(_, St) -> {ok, St}.

handle_ssh_msg({ssh_cm, CM, {pty, Id, Want, {Term, Cols, Rows, _, _, _}}}, St) ->
    ssh_connection:reply_request(CM, Want, success, Id),
    {ok, St#st{pty = {Term, Cols, Rows}}};
handle_ssh_msg({ssh_cm, _, {window_change, _, Cols, Rows, _, _}}, #st{pty = {T, _, _}} = St) ->
    {ok, St#st{pty = {T, Cols, Rows}}};
handle_ssh_msg({ssh_cm, CM, {env, Id, Want, _, _}}, St) ->
    ssh_connection:reply_request(CM, Want, success, Id),
    {ok, St};
handle_ssh_msg({ssh_cm, CM, {exec, Id, Want, Cmd}}, St) ->
    ssh_connection:reply_request(CM, Want, success, Id),
    case string:lexemes(unicode:characters_to_binary(Cmd), " ") of
        [<<"check">>, N] -> {ok, St#st{check = {binary_to_integer(N), 0, ok}}};
        _ ->
            Status = run(unicode:characters_to_binary(Cmd), St, fun(B) -> out(St, 0, B) end,
                         fun(B) -> out(St, 1, B) end),
            finish(Status, St)
    end;
handle_ssh_msg({ssh_cm, CM, {shell, Id, Want}}, St) ->
    ssh_connection:reply_request(CM, Want, success, Id),
    prompt(St),
    {ok, St};
handle_ssh_msg({ssh_cm, CM, {data, Id, 0, Data}}, St) ->
    %% A channel callback module gives the window back itself.
    ssh_connection:adjust_window(CM, Id, byte_size(Data)),
    case St#st.check of
        none -> typed(Data, St);
        Check -> {ok, St#st{check = checked(Data, Check)}}
    end;
handle_ssh_msg({ssh_cm, _, {eof, _}}, #st{check = {N, N, ok}} = St) ->
    out(St, 0, iolist_to_binary(io_lib:format("ok ~b~n", [N]))),
    finish(0, St);
handle_ssh_msg({ssh_cm, _, {eof, _}}, #st{check = {_, Got, ok}} = St) ->
    out(St, 0, iolist_to_binary(io_lib:format("got ~b bytes~n", [Got]))),
    finish(1, St);
handle_ssh_msg({ssh_cm, _, {eof, _}}, #st{check = {_, _, {mismatch, At}}} = St) ->
    out(St, 0, iolist_to_binary(io_lib:format("mismatch after byte ~b~n", [At]))),
    finish(1, St);
handle_ssh_msg({ssh_cm, _, {eof, _}}, St) ->
    finish(0, St);
handle_ssh_msg({ssh_cm, _, {closed, Id}}, St) ->
    {stop, Id, St};
handle_ssh_msg(_, St) ->
    {ok, St}.

terminate(_, _) -> ok.

finish(Status, #st{cm = CM, id = Id} = St) ->
    ssh_connection:exit_status(CM, Id, Status),
    ssh_connection:send_eof(CM, Id),
    {stop, Id, St}.

%% Output of the shell goes through a pty: "\n" becomes "\r\n".
out(#st{cm = CM, id = Id, pty = none}, Type, Bin) -> ssh_connection:send(CM, Id, Type, Bin);
out(#st{cm = CM, id = Id}, Type, Bin) ->
    ssh_connection:send(CM, Id, Type, binary:replace(Bin, <<"\n">>, <<"\r\n">>, [global])).

prompt(St) -> out(St, 0, <<"interop$ ">>).

%% The shell: echo what is typed (on a pty), run a line at CR or LF.
typed(<<>>, St) -> {ok, St};
typed(<<C, Rest/binary>>, #st{line = Line} = St) when C =:= $\r; C =:= $\n ->
    St#st.pty =/= none andalso out(St, 0, <<"\n">>),
    case string:lexemes(Line, " ") of
        [<<"exit">> | Args] ->
            finish(run(iolist_to_binary(["exit " | lists:join(" ", Args)]), St, fun(_) -> ok end,
                       fun(_) -> ok end), St#st{line = <<>>});
        _ ->
            run(Line, St, fun(B) -> out(St, 0, B) end, fun(B) -> out(St, 1, B) end),
            prompt(St),
            typed(Rest, St#st{line = <<>>})
    end;
typed(<<C, Rest/binary>>, #st{line = Line} = St) ->
    St#st.pty =/= none andalso out(St, 0, <<C>>),
    typed(Rest, St#st{line = <<Line/binary, C>>}).

run(Cmd, St, Out, Err) ->
    case string:lexemes(Cmd, " ") of
        [] -> 0;
        [<<"echo">> | Words] -> Out(iolist_to_binary([lists:join(" ", Words), "\n"])), 0;
        [<<"whoami">>] -> Out(iolist_to_binary([whoami(St), "\n"])), 0;
        [<<"pty">>] -> Out(iolist_to_binary([pty_text(St#st.pty), "\n"])), 0;
        [<<"bytes">>, N] -> pattern(binary_to_integer(N), Out), 0;
        [<<"bytes">>, N, <<"stderr">>] -> pattern(binary_to_integer(N), Err), 0;
        [<<"exit">>] -> 0;
        [<<"exit">>, N] -> binary_to_integer(N);
        [Name | _] -> Err(<<"unknown command: ", Name/binary, "\n">>), 127
    end.

whoami(#st{cm = CM}) ->
    [{user, User}, {peer, {_, Peer}}] = ssh:connection_info(CM, [user, peer]),
    Method = case ets:member(password_peers, Peer) of
                 true -> "password";
                 false -> "publickey"
             end,
    [User, " ", Method].

pty_text(none) -> "none";
pty_text({Term, Cols, Rows}) -> io_lib:format("~s ~bx~b", [Term, Cols, Rows]).

%% 256 periods of the pattern (byte i is i rem 251), made once.
chunk() ->
    case persistent_term:get(pattern_chunk, undefined) of
        undefined ->
            Chunk = binary:copy(list_to_binary(lists:seq(0, 250)), 256),
            persistent_term:put(pattern_chunk, Chunk),
            Chunk;
        Chunk -> Chunk
    end.

%% Compares stdin data with the pattern, 32 KiB at a time (one slice of chunk() holds them).
checked(_, {_, _, {mismatch, _}} = Check) -> Check;
checked(<<>>, Check) -> Check;
checked(Data, {N, Off, ok}) ->
    Size = min(byte_size(Data), 32768),
    <<Piece:Size/binary, Rest/binary>> = Data,
    case binary:part(chunk(), Off rem 251, Size) of
        Piece -> checked(Rest, {N, Off + Size, ok});
        _ -> {N, Off, {mismatch, Off}}
    end.

%% N bytes of the pattern, written in chunks of 256 periods.
pattern(N, Write) ->
    pattern(N, chunk(), Write).

pattern(0, _, _) -> ok;
pattern(N, Chunk, Write) when N >= byte_size(Chunk) ->
    Write(Chunk),
    pattern(N - byte_size(Chunk), Chunk, Write);
pattern(N, Chunk, Write) ->
    Write(binary:part(Chunk, 0, N)).
