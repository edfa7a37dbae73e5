/// The commands every shell has.
public enum BuiltinCommands {
    public static func register(in shell: ShellContext) {
        for command: any ShellCommand.Type in [
            HelpCommand.self, QuitCommand.self, EchoCommand.self, SleepCommand.self, SourceCommand.self,
            SetCommand.self, ShowCommand.self, ExpectCommand.self,
        ] {
            shell.commands.register(command)
        }
    }
}
